// Rule 1: a column is compared only with a value of its SQL type.
// `users::name` is `Text`, so comparing it with an integer does not compile.

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

fn query(pool: &lifeguard::LifeguardPool) {
    let _: Vec<i32> = users::table
        .select(users::id)
        .filter(users::name.eq(5))
        .load(pool)
        .unwrap();
}

fn main() {}
