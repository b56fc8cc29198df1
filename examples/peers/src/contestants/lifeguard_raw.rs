//! Lifeguard's raw pool API: SQL text and parameters (`pool.query(sql, params)`), rows read
//! by position, on a `may` coroutine.

use lifeguard::LifeguardPool;
use lifeguard::client::{Row, ToSql};

use crate::BoxError;
use crate::model::{self, Comment, Post, User};
use crate::suite::{Contestant, Measured, Timing, Workload, timed};

pub struct LifeguardRaw {
    pool: LifeguardPool,
}

impl LifeguardRaw {
    pub fn connect(url: &str) -> Result<Self, BoxError> {
        let pool = LifeguardPool::builder(url)?
            .size(super::POOL_SIZE)
            .build()?;
        Ok(LifeguardRaw { pool })
    }
}

fn user(r: &Row) -> Result<User, BoxError> {
    Ok(User {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        hair_color: r.try_get(2)?,
    })
}

fn users(pool: &LifeguardPool) -> Result<Vec<User>, BoxError> {
    pool.query(model::TRIVIAL, &[])?.iter().map(user).collect()
}

fn medium(pool: &LifeguardPool) -> Result<usize, BoxError> {
    let rows = pool
        .query(model::MEDIUM, &[&"black"])?
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

fn insert(pool: &LifeguardPool, sql: &str, n: usize) -> Result<usize, BoxError> {
    let rows = model::insert_rows(n);
    let params: Vec<&(dyn ToSql + Sync)> = rows
        .iter()
        .flat_map(|(name, hair)| [name as &(dyn ToSql + Sync), hair as _])
        .collect();
    Ok(pool.execute(sql, &params)? as usize)
}

fn associations(pool: &LifeguardPool) -> Result<usize, BoxError> {
    let users = users(pool)?;
    let ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let posts = pool
        .query(model::POSTS_OF, &[&ids])?
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
    let comments = pool
        .query(model::COMMENTS_OF, &[&ids])?
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

impl Contestant for LifeguardRaw {
    fn name(&self) -> &'static str {
        "lifeguard raw"
    }

    fn run(&mut self, w: Workload, t: Timing) -> Result<Measured, BoxError> {
        let pool = self.pool.clone();
        may::go!(move || match w {
            Workload::Trivial => timed(t, || Ok(users(&pool)?.len())),
            Workload::Medium => timed(t, || medium(&pool)),
            Workload::Insert(n) => {
                let sql = model::insert_users_sql(n);
                timed(t, || insert(&pool, &sql, n))
            }
            Workload::Associations => timed(t, || associations(&pool)),
        })
        .join()
        .map_err(|_| "lifeguard raw: coroutine panicked")?
    }
}
