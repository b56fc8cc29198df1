// The example application's schema: `lifeguard diff --schema examples/schema.rs` writes the
// migrations in `migrations/` from it, and CI checks they agree (`--check`).

lifeguard::sql_enum! {
    /// Where a post is in its life.
    pub enum PostState = "post_state" {
        Draft = "draft",
        Published = "published",
        Archived = "archived",
    }
}

lifeguard::table! {
    use lifeguard::sql_types::*;
    use super::PostState;

    /// People who write and comment.
    #[index(on("lower(email)"), unique, name = "users_email_lower_key")]
    users (id) {
        #[identity = "always"]
        id -> Int8,
        #[max_length = 100]
        #[validate(not_blank)]
        name -> Varchar,
        #[validate(email)]
        email -> Text,
        #[default = "now()"]
        created_at -> Timestamptz,
    }

    /// Articles.
    #[index(on(author_id, published_at), where = "state = 'published'", name = "posts_published_idx")]
    #[index(on(tags), using = "gin")]
    posts (id) {
        #[identity]
        id -> Int8,
        #[references(users(id), on_delete = cascade)]
        author_id -> Int8,
        title -> Text,
        body -> Text,
        #[default = "'draft'"]
        state -> PostState,
        #[default = "'{}'"]
        tags -> Array<Text>,
        #[default = "0"]
        #[check = "views >= 0"]
        views -> Int8,
        published_at -> Nullable<Timestamptz>,
    }

    #[index(on(post_id, created_at))]
    comments (id) {
        #[identity]
        id -> Int8,
        #[references(posts(id), on_delete = cascade)]
        post_id -> Int8,
        #[references(users(id), on_delete = set_null)]
        author_id -> Nullable<Int8>,
        body -> Text,
        #[default = "now()"]
        created_at -> Timestamptz,
    }
}

lifeguard::joinable!(posts -> users (author_id));
lifeguard::joinable!(comments -> posts (post_id));
