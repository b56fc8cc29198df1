//! The example application: its schema is `examples/schema.rs`, its migrations (written by
//! `lifeguard diff`) are embedded in the binary and applied at start-up, then it writes and
//! reads through the typed query builder, then through the entity layer (records with
//! validation, relations loaded eagerly, pagination).
//!
//! ```text
//! cargo run --release --example blog_app      # or with DATABASE_URL set
//! ```

#[path = "schema.rs"]
mod schema;

use lifeguard::LifeguardPool;
use lifeguard::entity::prelude::*;
use lifeguard::migrate::{Migrations, Migrator};
use lifeguard::query::dsl::*;
use lifeguard::testkit::PgServer;
use schema::{PostState, comments, posts, users};

/// The migrations, embedded: `include_str!` makes the binary carry them.
const MIGRATIONS: &[(&str, &str, &str, &str)] = &[(
    "20261124192114",
    "create_blog",
    include_str!("../migrations/20261124192114_create_blog/up.sql"),
    include_str!("../migrations/20261124192114_create_blog/down.sql"),
)];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server;
    let url = match std::env::var("DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            server = PgServer::start()?;
            server.url("postgres")
        }
    };
    let pool = LifeguardPool::connect(&url)?;
    let applied = Migrator::new(Migrations::from_static(MIGRATIONS)?).run_with_pool(&pool)?;
    println!("migrations applied at start-up: {}", applied.len());

    let ann: i64 = insert_into(users::table)
        .values((users::name.eq("ann"), users::email.eq("ann@example.com")))
        .returning(users::id)
        .get_result(&pool)?;
    let post: i64 = insert_into(posts::table)
        .values((
            posts::author_id.eq(ann),
            posts::title.eq("Hello"),
            posts::body.eq("First post."),
            posts::tags.eq(vec!["intro".to_string()]),
        ))
        .returning(posts::id)
        .get_result(&pool)?;
    insert_into(comments::table)
        .values(vec![
            (comments::post_id.eq(post), comments::body.eq("Welcome!")),
            (comments::post_id.eq(post), comments::body.eq("Nice.")),
        ])
        .execute(&pool)?;
    update(posts::table.filter(posts::id.eq(post)))
        .set((
            posts::state.eq(PostState::Published),
            posts::published_at.eq(now_sql()),
        ))
        .execute(&pool)?;

    let rows: Vec<(String, String, i64)> = users::table
        .inner_join(posts::table)
        .left_join_referencing(comments::post_id)
        .select((users::name, posts::title, count(comments::id.nullable())))
        .filter(posts::state.eq(PostState::Published))
        .group_by((users::name, posts::title))
        .load(&pool)?;
    for (author, title, n) in rows {
        println!("{author} published \"{title}\" with {n} comments");
    }
    entities(&pool)?;
    Ok(())
}

/// The same tables through the entity layer.
fn entities(pool: &LifeguardPool) -> Result<(), lifeguard::Error> {
    let mut bob = users::Record::new();
    bob.name.set("bob");
    bob.email.set("bob@example.com");
    let bob = bob.insert(pool)?;
    let mut post = posts::Record::new();
    post.author_id.set(bob.id);
    post.title.set("Second");
    post.body.set("Another post.");
    post.insert(pool)?;

    // Validators declared in the schema run before anything is sent.
    let mut eve = users::Record::new();
    eve.name.set("eve");
    eve.email.set("not an address");
    match eve.insert(pool) {
        Err(e) => println!("entity insert refused: {e}"),
        Ok(u) => println!("unexpectedly inserted {u:?}"),
    }

    // Users, their posts, the posts' comments: three queries however many rows.
    let authors = users::Entity::find().order_by(users::id).all(pool)?;
    let posts = authors.load_many(posts::author_id, pool)?;
    let comments = posts.load_many(comments::post_id, pool)?;
    for ((author, posts), comments) in authors.iter().zip(&posts).zip(&comments) {
        for (post, comments) in posts.iter().zip(comments) {
            println!(
                "{} wrote \"{}\" ({:?}), {} comments",
                author.name,
                post.title,
                post.state,
                comments.len()
            );
        }
    }
    let published = posts::Entity::find()
        .filter(posts::state.eq(PostState::Published))
        .count(pool)?;
    println!(
        "{published} of {} posts published",
        posts::Entity::find().count(pool)?
    );
    Ok(())
}

/// `now()` as a value of the column's type (a raw fragment: the escape hatch).
fn now_sql()
-> lifeguard::query::SqlFragment<lifeguard::sql_types::Nullable<lifeguard::sql_types::Timestamptz>>
{
    sql("now()")
}
