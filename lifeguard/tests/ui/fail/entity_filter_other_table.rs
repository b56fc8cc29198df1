// Rule 2, through the entity layer: an entity query names only its own table's columns.

use lifeguard::entity::prelude::*;
use lifeguard::query::dsl::*;

lifeguard::table! {
    users (id) { id -> Int4, name -> Text, }
    posts (id) { id -> Int4, title -> Text, }
}

fn query(pool: &lifeguard::LifeguardPool) {
    let _ = users::Entity::find().filter(posts::title.eq("x")).all(pool);
}

fn main() {}
