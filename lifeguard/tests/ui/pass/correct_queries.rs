// The correct versions of the queries in `tests/ui/fail`: they must compile, so that a change
// of the API cannot make those failures pass for the wrong reason. `main` only builds SQL
// text; the functions that run queries are compiled but never called.

use lifeguard::query::dsl::*;

lifeguard::table! {
    users (id) {
        id -> Int4,
        name -> Text,
        email -> Nullable<Text>,
    }
}

lifeguard::table! {
    posts (id) {
        id -> Int4,
        author_id -> Int4,
        title -> Text,
    }
}

lifeguard::joinable!(posts -> users (author_id));

lifeguard::queryable! {
    #[derive(Debug)]
    pub struct User {
        pub id: i32,
        pub name: String,
        pub email: Option<String>,
    }
}

// Rule 1: values of the column's own type.
#[allow(dead_code)]
fn compare_with_matching_types(pool: &lifeguard::LifeguardPool) {
    let _: Vec<String> = users::table
        .select(users::name)
        .filter(users::id.eq(1))
        .filter(users::name.eq("one"))
        .filter(users::email.eq("a@example.com"))
        .load(pool)
        .unwrap();
}

// Rule 2: columns of joined tables; after a left join, through `.nullable()`.
#[allow(dead_code)]
fn columns_of_joined_tables(pool: &lifeguard::LifeguardPool) {
    let _: Vec<(String, String)> = users::table
        .inner_join(posts::table)
        .select((users::name, posts::title))
        .filter(posts::id.eq(1))
        .load(pool)
        .unwrap();
    let _: Vec<(String, Option<String>)> = users::table
        .left_join(posts::table)
        .select((users::name, posts::title.nullable()))
        .load(pool)
        .unwrap();
}

// Rule 3: nullable columns into `Option`.
#[allow(dead_code)]
fn nullable_into_option(pool: &lifeguard::LifeguardPool) {
    let _: Vec<Option<String>> = users::table.select(users::email).load(pool).unwrap();
    let _: Vec<User> = users::table.load(pool).unwrap();
}

fn main() {
    let q = users::table
        .select(users::name)
        .filter(users::id.eq(1))
        .to_sql();
    assert_eq!(
        q.sql,
        r#"SELECT "users"."name" FROM "users" WHERE "users"."id" = $1"#
    );
    let q = users::table
        .left_join(posts::table)
        .select((users::name, posts::title.nullable()))
        .to_sql();
    assert!(q.sql.contains("LEFT JOIN"), "{}", q.sql);
}
