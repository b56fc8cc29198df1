// Rule 1: a column is compared only with a value of its SQL type.
// `users::id` is `Int4`, so comparing it with a string does not compile.

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
    let _: Vec<String> = users::table
        .select(users::name)
        .filter(users::id.eq("one"))
        .load(pool)
        .unwrap();
}

fn main() {}
