// Rule 3: a nullable column is read only into an `Option`.
// `users::email` is `Nullable<Text>`, so loading it into `String` does not compile.

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
    let _ = users::table
        .select(users::email)
        .load::<String>(pool)
        .unwrap();
}

fn main() {}
