// Rule 4: a soft-delete column must be a nullable timestamp (NULL = not deleted).

lifeguard::table! {
    #[soft_delete(deleted)]
    posts (id) {
        id -> Int4,
        deleted -> Bool,
    }
}

fn main() {}
