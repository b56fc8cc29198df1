// The correct versions of the entity compile-fail cases.

use lifeguard::entity::prelude::*;
use lifeguard::query::dsl::*;

lifeguard::table! {
    #[soft_delete(deleted_at)]
    posts (id) {
        id -> Int4,
        title -> Text,
        deleted_at -> Nullable<Timestamptz>,
    }

    users (id) {
        id -> Int4,
        #[validate(email)]
        email -> Text,
    }
}

fn query(pool: &lifeguard::LifeguardPool) {
    let _ = posts::Entity::find().filter(posts::title.eq("x")).all(pool);
    let _ = users::Entity::find().filter(users::email.eq("a@b.c")).all(pool);
}

fn main() {
    let sql = posts::Entity::find().to_sql().sql;
    assert!(sql.ends_with(r#"WHERE "posts"."deleted_at" IS NULL"#), "{sql}");
}
