//! The example application: its schema is `examples/schema.rs`, its migrations (written by
//! `lifeguard diff`) are embedded in the binary and applied at start-up, then it writes and
//! reads through the typed query builder.
//!
//! ```text
//! cargo run --release --example blog_app      # or with DATABASE_URL set
//! ```

#[path = "schema.rs"]
mod schema;

use lifeguard::LifeguardPool;
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
    Ok(())
}

/// `now()` as a value of the column's type (a raw fragment: the escape hatch).
fn now_sql()
-> lifeguard::query::SqlFragment<lifeguard::sql_types::Nullable<lifeguard::sql_types::Timestamptz>>
{
    sql("now()")
}
