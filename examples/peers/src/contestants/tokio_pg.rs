//! tokio-postgres behind a deadpool-postgres pool, on a current-thread tokio runtime (the
//! fastest for one sequential caller); statements prepared once per connection
//! (`prepare_cached`), rows read by position.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::BoxError;
use crate::model::{self, Comment, Post, User};
use crate::suite::{Contestant, Measured, Timing, Workload, timed_async};

pub struct TokioPostgres {
    rt: Runtime,
    pool: Pool,
}

impl TokioPostgres {
    pub fn connect(url: &str) -> Result<Self, BoxError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let config: tokio_postgres::Config = url.parse()?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(super::POOL_SIZE).build()?;
        rt.block_on(async { pool.get().await.map(drop) })?;
        Ok(TokioPostgres { rt, pool })
    }
}

fn user(r: &Row) -> Result<User, BoxError> {
    Ok(User {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        hair_color: r.try_get(2)?,
    })
}

async fn users(pool: &Pool) -> Result<Vec<User>, BoxError> {
    let c = pool.get().await?;
    let st = c.prepare_cached(model::TRIVIAL).await?;
    c.query(&st, &[]).await?.iter().map(user).collect()
}

async fn medium(pool: &Pool) -> Result<usize, BoxError> {
    let c = pool.get().await?;
    let st = c.prepare_cached(model::MEDIUM).await?;
    let rows = c
        .query(&st, &[&"black"])
        .await?
        .iter()
        .map(|r| {
            let post = match r.try_get::<_, Option<i32>>(3)? {
                Some(id) => Some(Post {
                    id,
                    user_id: r.try_get(4)?,
                    title: r.try_get(5)?,
                    body: r.try_get(6)?,
                }),
                None => None,
            };
            Ok((user(r)?, post))
        })
        .collect::<Result<Vec<_>, BoxError>>()?;
    Ok(rows.len())
}

async fn insert(pool: &Pool, sql: &str, n: usize) -> Result<usize, BoxError> {
    let rows = model::insert_rows(n);
    let params: Vec<&(dyn ToSql + Sync)> = rows
        .iter()
        .flat_map(|(name, hair)| [name as &(dyn ToSql + Sync), hair as _])
        .collect();
    let c = pool.get().await?;
    let st = c.prepare_cached(sql).await?;
    Ok(c.execute(&st, &params).await? as usize)
}

async fn associations(pool: &Pool) -> Result<usize, BoxError> {
    let users = users(pool).await?;
    let c = pool.get().await?;
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let st = c.prepare_cached(model::POSTS_OF).await?;
    let posts = c
        .query(&st, &[&ids])
        .await?
        .iter()
        .map(|r| {
            Ok(Post {
                id: r.try_get(0)?,
                user_id: r.try_get(1)?,
                title: r.try_get(2)?,
                body: r.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, BoxError>>()?;
    let ids: Vec<i32> = posts.iter().map(|p| p.id).collect();
    let st = c.prepare_cached(model::COMMENTS_OF).await?;
    let comments = c
        .query(&st, &[&ids])
        .await?
        .iter()
        .map(|r| {
            Ok(Comment {
                id: r.try_get(0)?,
                post_id: r.try_get(1)?,
                text: r.try_get(2)?,
            })
        })
        .collect::<Result<Vec<_>, BoxError>>()?;
    let (loaded, n) = model::group(users, posts, comments);
    std::hint::black_box(loaded);
    Ok(n)
}

impl Contestant for TokioPostgres {
    fn name(&self) -> &'static str {
        "tokio-postgres"
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
