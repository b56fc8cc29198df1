//! The rows every contestant loads (Diesel's benchmark schema), the SQL the raw contestants
//! run, the data rules of `diesel_bench`, and the grouping of loaded associations.

use std::collections::HashMap;

/// `users` (id serial primary key, name text not null, hair_color text null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i32,
    pub name: String,
    pub hair_color: Option<String>,
}

/// `posts` (id serial primary key, user_id int4 not null references users, title text not
/// null, body text null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: i32,
    pub user_id: i32,
    pub title: String,
    pub body: Option<String>,
}

/// `comments` (id serial primary key, post_id int4 not null references posts, text text not
/// null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i32,
    pub post_id: i32,
    pub text: String,
}

/// Users with their posts with their comments: what the associations workload returns.
pub type Loaded = Vec<(User, Vec<(Post, Vec<Comment>)>)>;

pub const SCHEMA: &str = "
    CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, hair_color text);
    CREATE TABLE posts (id serial PRIMARY KEY, user_id int4 NOT NULL REFERENCES users,
                        title text NOT NULL, body text);
    CREATE TABLE comments (id serial PRIMARY KEY, post_id int4 NOT NULL REFERENCES posts,
                           text text NOT NULL);";

pub const CLEANUP: &str = "TRUNCATE TABLE comments, posts, users RESTART IDENTITY CASCADE";

/// The trivial query (all users).
pub const TRIVIAL: &str = "SELECT id, name, hair_color FROM users";
/// The medium complex query (users LEFT JOIN posts, filtered on hair colour; `$1` = 'black').
pub const MEDIUM: &str = "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body \
     FROM users AS u LEFT JOIN posts AS p ON u.id = p.user_id WHERE u.hair_color = $1";
/// The posts of some users, one array parameter.
pub const POSTS_OF: &str = "SELECT id, user_id, title, body FROM posts WHERE user_id = ANY($1)";
/// The comments of some posts, one array parameter.
pub const COMMENTS_OF: &str = "SELECT id, post_id, text FROM comments WHERE post_id = ANY($1)";

/// `INSERT INTO users (name, hair_color) VALUES ($1, $2), …` for `rows` rows.
pub fn insert_users_sql(rows: usize) -> String {
    let mut sql = String::from("INSERT INTO users (name, hair_color) VALUES ");
    for x in 0..rows {
        if x > 0 {
            sql.push(',');
        }
        sql.push_str(&format!("(${},${})", 2 * x + 1, 2 * x + 2));
    }
    sql
}

/// diesel_bench's rows for the insert workload: "User {x}" with hair colour "hair_color".
pub fn insert_rows(rows: usize) -> Vec<(String, Option<String>)> {
    (0..rows)
        .map(|x| (format!("User {x}"), Some("hair_color".to_string())))
        .collect()
}

/// diesel_bench's hair colours for the medium complex query and the associations: black for
/// even, brown for odd users.
pub fn black_or_brown(i: usize) -> Option<&'static str> {
    Some(if i.is_multiple_of(2) {
        "black"
    } else {
        "brown"
    })
}

/// SQL that fills the tables the way diesel_bench does: `users` users named "User {i}"
/// (hair colour from `hair`), and with `associations`, 10 posts per user ("Post {i} by user
/// {user_id}", no body) and 10 comments per post ("Comment {i} on post {post_id}").
pub fn fill_sql(
    users: usize,
    hair: fn(usize) -> Option<&'static str>,
    associations: bool,
) -> String {
    let mut sql = format!("{CLEANUP};\n");
    if users > 0 {
        sql.push_str("INSERT INTO users (name, hair_color) VALUES ");
        for i in 0..users {
            if i > 0 {
                sql.push(',');
            }
            match hair(i) {
                Some(h) => sql.push_str(&format!("('User {i}','{h}')")),
                None => sql.push_str(&format!("('User {i}',NULL)")),
            }
        }
        sql.push_str(";\n");
    }
    if associations {
        sql.push_str(
            "INSERT INTO posts (title, user_id, body)
               SELECT 'Post ' || i || ' by user ' || u.id, u.id, NULL
               FROM users u, generate_series(0, 9) i ORDER BY u.id, i;
             INSERT INTO comments (text, post_id)
               SELECT 'Comment ' || i || ' on post ' || p.id, p.id
               FROM posts p, generate_series(0, 9) i ORDER BY p.id, i;\n",
        );
    }
    sql.push_str("ANALYZE users, posts, comments;");
    sql
}

/// Groups comments under their posts and posts under their users, in the parents' order
/// (what Diesel's `grouped_by` does); the number of comments placed is returned with it.
pub fn group(users: Vec<User>, posts: Vec<Post>, comments: Vec<Comment>) -> (Loaded, usize) {
    let post_at: HashMap<i32, usize> = posts.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let mut per_post: Vec<Vec<Comment>> = (0..posts.len()).map(|_| Vec::new()).collect();
    let n = comments.len();
    for c in comments {
        per_post[post_at[&c.post_id]].push(c);
    }
    let user_at: HashMap<i32, usize> = users.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
    let mut per_user: Vec<Vec<(Post, Vec<Comment>)>> =
        (0..users.len()).map(|_| Vec::new()).collect();
    for (p, cs) in posts.into_iter().zip(per_post) {
        per_user[user_at[&p.user_id]].push((p, cs));
    }
    (users.into_iter().zip(per_user).collect(), n)
}
