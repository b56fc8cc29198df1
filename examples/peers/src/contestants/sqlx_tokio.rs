//! sqlx (postgres) with its `PgPool`, on a current-thread tokio runtime; sqlx prepares and
//! caches statements per connection; rows read by position through `FromRow`.

use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{FromRow, Row};
use tokio::runtime::Runtime;

use crate::BoxError;
use crate::model::{self, Comment, Post, User};
use crate::suite::{Contestant, Measured, Timing, Workload, timed_async};

/// Newtypes for the model rows, read by position.
struct SUser(User);
struct SPost(Post);
struct SComment(Comment);
#[allow(dead_code)]
struct SUserWithPost(User, Option<Post>);

impl<'r> FromRow<'r, PgRow> for SUser {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(SUser(User {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            hair_color: r.try_get(2)?,
        }))
    }
}

impl<'r> FromRow<'r, PgRow> for SPost {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(SPost(Post {
            id: r.try_get(0)?,
            user_id: r.try_get(1)?,
            title: r.try_get(2)?,
            body: r.try_get(3)?,
        }))
    }
}

impl<'r> FromRow<'r, PgRow> for SComment {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(SComment(Comment {
            id: r.try_get(0)?,
            post_id: r.try_get(1)?,
            text: r.try_get(2)?,
        }))
    }
}

impl<'r> FromRow<'r, PgRow> for SUserWithPost {
    fn from_row(r: &'r PgRow) -> Result<Self, sqlx::Error> {
        let SUser(user) = SUser::from_row(r)?;
        let post = match r.try_get::<Option<i32>, _>(3)? {
            Some(id) => Some(Post {
                id,
                user_id: r.try_get(4)?,
                title: r.try_get(5)?,
                body: r.try_get(6)?,
            }),
            None => None,
        };
        Ok(SUserWithPost(user, post))
    }
}

pub struct Sqlx {
    rt: Runtime,
    pool: PgPool,
}

impl Sqlx {
    pub fn connect(url: &str) -> Result<Self, BoxError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let pool = rt.block_on(
            PgPoolOptions::new()
                .max_connections(super::POOL_SIZE as u32)
                .connect(url),
        )?;
        Ok(Sqlx { rt, pool })
    }
}

async fn users(pool: &PgPool) -> Result<Vec<User>, BoxError> {
    let rows: Vec<SUser> = sqlx::query_as(model::TRIVIAL).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|u| u.0).collect())
}

async fn medium(pool: &PgPool) -> Result<usize, BoxError> {
    let rows: Vec<SUserWithPost> = sqlx::query_as(model::MEDIUM)
        .bind("black")
        .fetch_all(pool)
        .await?;
    Ok(rows.len())
}

async fn insert(pool: &PgPool, sql: &str, n: usize) -> Result<usize, BoxError> {
    let mut q = sqlx::query(sql);
    for (name, hair) in model::insert_rows(n) {
        q = q.bind(name).bind(hair);
    }
    Ok(q.execute(pool).await?.rows_affected() as usize)
}

async fn associations(pool: &PgPool) -> Result<usize, BoxError> {
    let users = users(pool).await?;
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let posts: Vec<SPost> = sqlx::query_as(model::POSTS_OF)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    let posts: Vec<Post> = posts.into_iter().map(|p| p.0).collect();
    let ids: Vec<i32> = posts.iter().map(|p| p.id).collect();
    let comments: Vec<SComment> = sqlx::query_as(model::COMMENTS_OF)
        .bind(ids)
        .fetch_all(pool)
        .await?;
    let comments = comments.into_iter().map(|c| c.0).collect();
    let (loaded, n) = model::group(users, posts, comments);
    std::hint::black_box(loaded);
    Ok(n)
}

impl Contestant for Sqlx {
    fn name(&self) -> &'static str {
        "sqlx"
    }

    fn run(&mut self, w: Workload, t: Timing) -> Result<Measured, BoxError> {
        let pool = &self.pool;
        self.rt.block_on(async move {
            match w {
                Workload::Trivial => {
                    timed_async(t, || async { Ok(users(pool).await?.len()) }).await
                }
                Workload::Medium => timed_async(t, || medium(pool)).await,
                Workload::Insert(n) => {
                    let sql = model::insert_users_sql(n);
                    timed_async(t, || insert(pool, &sql, n)).await
                }
                Workload::Associations => timed_async(t, || associations(pool)).await,
            }
        })
    }
}
