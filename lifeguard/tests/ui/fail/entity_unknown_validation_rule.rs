// Rule 5: a misspelt validation rule is a compile error, not silently ignored.

lifeguard::table! {
    users (id) {
        id -> Int4,
        #[validate(emial)]
        email -> Text,
    }
}

fn main() {}
