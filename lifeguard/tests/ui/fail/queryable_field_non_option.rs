// Rule 3: a nullable column is read only into an `Option`, also through a struct.
// The field for `users::email` (`Nullable<Text>`) is a `String`, so loading the rows of
// `users` into `User` does not compile.

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
    pub struct User {
        pub id: i32,
        pub name: String,
        pub email: String,
    }
}

fn query(pool: &lifeguard::LifeguardPool) {
    let _ = users::table.load::<User>(pool).unwrap();
}

fn main() {}
