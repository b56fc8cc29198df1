//! Lifeguard's typed query builder (`lifeguard::query::dsl`) over tables declared with
//! `lifeguard::table!`, run through a `LifeguardPool`, on a `may` coroutine.

use lifeguard::LifeguardPool;
use lifeguard::query::Queryable;
use lifeguard::query::dsl::*;

use crate::BoxError;
use crate::model::{self, Comment, Post, User};
use crate::suite::{Contestant, Measured, Timing, Workload, timed};

mod schema {
    lifeguard::table! {
        users (id) {
            id -> Int4,
            name -> Text,
            hair_color -> Nullable<Text>,
        }
    }
    lifeguard::table! {
        posts (id) {
            id -> Int4,
            user_id -> Int4,
            title -> Text,
            body -> Nullable<Text>,
        }
    }
    lifeguard::table! {
        comments (id) {
            id -> Int4,
            post_id -> Int4,
            text -> Text,
        }
    }
    lifeguard::joinable!(posts -> users (user_id));
    lifeguard::joinable!(comments -> posts (post_id));
    lifeguard::allow_tables_to_appear_in_same_query!(users, posts, comments);
}
use schema::{comments, posts, users};

/// Implements `Queryable` for a model struct: the row is read as the tuple of its fields.
macro_rules! queryable_as_tuple {
    ($ty:ident { $($f:ident: $t:ty),+ }) => {
        impl<ST> Queryable<ST> for $ty
        where
            ($($t,)+): Queryable<ST>,
        {
            type Row = <($($t,)+) as Queryable<ST>>::Row;
            fn build(row: Self::Row) -> Self {
                let ($($f,)+) = <($($t,)+) as Queryable<ST>>::build(row);
                $ty { $($f),+ }
            }
        }
    };
}
queryable_as_tuple!(User { id: i32, name: String, hair_color: Option<String> });
queryable_as_tuple!(Post { id: i32, user_id: i32, title: String, body: Option<String> });
queryable_as_tuple!(Comment {
    id: i32,
    post_id: i32,
    text: String
});

/// A row of the medium complex query: a user and the post joined to it, if any (built and
/// dropped, as the other contestants' rows are).
#[allow(dead_code)]
struct UserWithPost(User, Option<Post>);

type UserWithPostRow = (
    i32,
    String,
    Option<String>,
    Option<i32>,
    Option<i32>,
    Option<String>,
    Option<String>,
);

impl<ST> Queryable<ST> for UserWithPost
where
    UserWithPostRow: Queryable<ST>,
{
    type Row = <UserWithPostRow as Queryable<ST>>::Row;
    fn build(row: Self::Row) -> Self {
        let (id, name, hair_color, post_id, user_id, title, body) =
            <UserWithPostRow as Queryable<ST>>::build(row);
        let post = post_id.map(|id| Post {
            id,
            user_id: user_id.unwrap_or_default(),
            title: title.unwrap_or_default(),
            body,
        });
        UserWithPost(
            User {
                id,
                name,
                hair_color,
            },
            post,
        )
    }
}

pub struct LifeguardDsl {
    pool: LifeguardPool,
}

impl LifeguardDsl {
    pub fn connect(url: &str) -> Result<Self, BoxError> {
        let pool = LifeguardPool::builder(url)?
            .size(super::POOL_SIZE)
            .build()?;
        Ok(LifeguardDsl { pool })
    }
}

fn trivial(pool: &LifeguardPool) -> Result<usize, BoxError> {
    let users: Vec<User> = users::table.load(pool)?;
    Ok(users.len())
}

fn medium(pool: &LifeguardPool) -> Result<usize, BoxError> {
    let rows: Vec<UserWithPost> = users::table
        .left_join(posts::table)
        .select((
            users::id,
            users::name,
            users::hair_color,
            posts::id.nullable(),
            posts::user_id.nullable(),
            posts::title.nullable(),
            posts::body.nullable(),
        ))
        .filter(users::hair_color.eq("black"))
        .load(pool)?;
    Ok(rows.len())
}

fn insert(pool: &LifeguardPool, n: usize) -> Result<usize, BoxError> {
    let rows: Vec<_> = model::insert_rows(n)
        .into_iter()
        .map(|(name, hair)| (users::name.eq(name), users::hair_color.eq(hair)))
        .collect();
    Ok(insert_into(users::table).values(rows).execute(pool)? as usize)
}

fn associations(pool: &LifeguardPool) -> Result<usize, BoxError> {
    let users: Vec<User> = users::table.load(pool)?;
    let user_ids: Vec<i32> = users.iter().map(|u| u.id).collect();
    let posts: Vec<Post> = posts::table
        .filter(posts::user_id.eq_any(user_ids))
        .load(pool)?;
    let post_ids: Vec<i32> = posts.iter().map(|p| p.id).collect();
    let comments: Vec<Comment> = comments::table
        .filter(comments::post_id.eq_any(post_ids))
        .load(pool)?;
    let (loaded, n) = model::group(users, posts, comments);
    std::hint::black_box(loaded);
    Ok(n)
}

impl Contestant for LifeguardDsl {
    fn name(&self) -> &'static str {
        "lifeguard dsl"
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
        .map_err(|_| "lifeguard dsl: coroutine panicked")?
    }
}
