//! Lifeguard's entity layer (`lifeguard::entity`): the `Model`s and `Record`s that
//! `lifeguard::table!` generates, run through a `LifeguardPool`, on a `may` coroutine. The
//! associations are loaded eagerly (`load_many`, one query per level); the insert is
//! `insert_many(records).exec_without_returning`, as sea-orm's is.

use lifeguard::LifeguardPool;
use lifeguard::entity::prelude::*;
use lifeguard::query::dsl::*;

use crate::BoxError;
use crate::model;
use crate::suite::{Contestant, Measured, Timing, Workload, timed};

mod schema {
    lifeguard::table! {
        users (id) {
            id -> Int4,
            name -> Text,
            hair_color -> Nullable<Text>,
        }

        posts (id) {
            id -> Int4,
            #[references(users(id))]
            user_id -> Int4,
            title -> Text,
            body -> Nullable<Text>,
        }

        comments (id) {
            id -> Int4,
            #[references(posts(id))]
            post_id -> Int4,
            text -> Text,
        }
    }
}
use schema::{comments, posts, users};

pub struct LifeguardEntity {
    pool: LifeguardPool,
}

impl LifeguardEntity {
    pub fn connect(url: &str) -> Result<Self, BoxError> {
        let pool = LifeguardPool::builder(url)?
            .size(super::POOL_SIZE)
            .build()?;
        Ok(LifeguardEntity { pool })
    }
}

fn trivial(pool: &LifeguardPool) -> Result<usize, BoxError> {
    Ok(users::Entity::find().all(pool)?.len())
}

fn medium(pool: &LifeguardPool) -> Result<usize, BoxError> {
    let rows = users::Entity::find()
        .filter(users::hair_color.eq("black"))
        .also_related(posts::user_id)
        .all(pool)?;
    Ok(rows.len())
}

fn insert(pool: &LifeguardPool, n: usize) -> Result<usize, BoxError> {
    let records = model::insert_rows(n).into_iter().map(|(name, hair)| {
        let mut r = users::Record::new();
        r.name.set(name);
        r.hair_color.set(hair);
        r
    });
    Ok(users::Entity::insert_many(records).exec_without_returning(pool)? as usize)
}

fn associations(pool: &LifeguardPool) -> Result<usize, BoxError> {
    let users = users::Entity::find().all(pool)?;
    let posts = users.load_many(posts::user_id, pool)?;
    let comments = posts.load_many(comments::post_id, pool)?;
    let n = comments.iter().flatten().map(Vec::len).sum();
    std::hint::black_box((users, posts, comments));
    Ok(n)
}

impl Contestant for LifeguardEntity {
    fn name(&self) -> &'static str {
        "lifeguard entity"
    }

    fn run(&mut self, w: Workload, t: Timing) -> Result<Measured, BoxError> {
        let pool = self.pool.clone();
        may::go!(move || match w {
            Workload::Trivial => timed(t, || trivial(&pool)),
            Workload::Medium => timed(t, || medium(&pool)),
            Workload::Insert(n) => timed(t, || insert(&pool, n)),
            Workload::Associations => timed(t, || associations(&pool)),
        })
        .join()
        .map_err(|_| "lifeguard entity: coroutine panicked")?
    }
}
