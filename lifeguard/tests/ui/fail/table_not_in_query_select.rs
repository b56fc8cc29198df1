// Rule 2: a query names only columns of the tables it selects from.
// `posts` is not joined, so selecting `posts::title` from `users` does not compile.

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
    let _: Vec<String> = users::table.select(posts::title).load(pool).unwrap();
}

fn main() {}
