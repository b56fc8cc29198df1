//! Diesel (sync, PostgreSQL backend over libpq) behind an r2d2 pool, with its query DSL,
//! `belonging_to` and `grouped_by` for the associations, as in Diesel's own benchmark.

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};

use crate::BoxError;
use crate::model;
use crate::suite::{Contestant, Measured, Timing, Workload, timed};

mod schema {
    diesel::table! {
        users {
            id -> Integer,
            name -> Text,
            hair_color -> Nullable<Text>,
        }
    }
    diesel::table! {
        posts {
            id -> Integer,
            user_id -> Integer,
            title -> Text,
            body -> Nullable<Text>,
        }
    }
    diesel::table! {
        comments {
            id -> Integer,
            post_id -> Integer,
            text -> Text,
        }
    }
    diesel::joinable!(comments -> posts (post_id));
    diesel::joinable!(posts -> users (user_id));
    diesel::allow_tables_to_appear_in_same_query!(users, posts, comments);
}
use schema::{comments, posts, users};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Associations)]
#[diesel(belongs_to(User))]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: i32,
    pub user_id: i32,
    pub title: String,
    pub body: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable, Associations)]
#[diesel(belongs_to(Post))]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: i32,
    pub post_id: i32,
    pub text: String,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUser {
    name: String,
    hair_color: Option<String>,
}

type PgPool = Pool<ConnectionManager<PgConnection>>;

pub struct Diesel {
    pool: PgPool,
}

impl Diesel {
    pub fn connect(url: &str) -> Result<Self, BoxError> {
        let pool = Pool::builder()
            .max_size(super::POOL_SIZE as u32)
            .build(ConnectionManager::<PgConnection>::new(url))?;
        Ok(Diesel { pool })
    }
}

fn trivial(pool: &PgPool) -> Result<usize, BoxError> {
    let c = &mut pool.get()?;
    Ok(users::table.load::<User>(c)?.len())
}

fn medium(pool: &PgPool) -> Result<usize, BoxError> {
    let c = &mut pool.get()?;
    let rows = users::table
        .left_outer_join(posts::table)
        .filter(users::hair_color.eq("black"))
        .load::<(User, Option<Post>)>(c)?;
    Ok(rows.len())
}

fn insert(pool: &PgPool, n: usize) -> Result<usize, BoxError> {
    let c = &mut pool.get()?;
    let rows: Vec<NewUser> = model::insert_rows(n)
        .into_iter()
        .map(|(name, hair_color)| NewUser { name, hair_color })
        .collect();
    Ok(diesel::insert_into(users::table).values(&rows).execute(c)?)
}

fn associations(pool: &PgPool) -> Result<usize, BoxError> {
    let c = &mut pool.get()?;
    let users = users::table.load::<User>(c)?;
    let posts = Post::belonging_to(&users).load::<Post>(c)?;
    let comments = Comment::belonging_to(&posts)
        .load::<Comment>(c)?
        .grouped_by(&posts);
    let posts_and_comments = posts.into_iter().zip(comments).grouped_by(&users);
    let loaded = users
        .into_iter()
        .zip(posts_and_comments)
        .collect::<Vec<(User, Vec<(Post, Vec<Comment>)>)>>();
    Ok(loaded
        .iter()
        .flat_map(|(_, ps)| ps.iter().map(|(_, cs)| cs.len()))
        .sum())
}

impl Contestant for Diesel {
    fn name(&self) -> &'static str {
        "diesel"
    }

    fn run(&mut self, w: Workload, t: Timing) -> Result<Measured, BoxError> {
        let pool = &self.pool;
        match w {
            Workload::Trivial => timed(t, || trivial(pool)),
            Workload::Medium => timed(t, || medium(pool)),
            Workload::Insert(n) => timed(t, || insert(pool, n)),
            Workload::Associations => timed(t, || associations(pool)),
        }
    }
}
