// Rule 2: after a `left_join`, the joined table's columns may be NULL, so they are usable
// only through `.nullable()`; selecting `posts::title` as is does not compile.

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
    let _: Vec<(String, String)> = users::table
        .left_join(posts::table)
        .select((users::name, posts::title))
        .load(pool)
        .unwrap();
}

fn main() {}
