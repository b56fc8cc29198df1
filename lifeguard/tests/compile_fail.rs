//! Compile-fail tests of the typed query builder: programs that must not compile, each
//! rejected with a readable message from our `#[diagnostic::on_unimplemented]` attributes
//! (the expected compiler output is kept next to each file in `tests/ui/fail/*.stderr`).
//!
//! The rules checked:
//!
//! 1. A column is compared only with a value (or expression) of its own SQL type:
//!    `users::id.eq("one")` with `id -> Int4`, or `users::name.eq(5)` with `name -> Text`,
//!    does not compile ("`&str` is not a SQL expression of the expected type").
//! 2. A query names only columns of the tables it selects from: filtering or selecting a
//!    column of a table that is not joined does not compile, and after a `left_join` the
//!    joined table's columns are usable only through `.nullable()` ("is not in this query" /
//!    "names a table that is not in the query").
//! 3. A nullable column is read only into an `Option`: loading `Nullable<Text>` into
//!    `String`, directly or through a field of a `queryable!` struct, does not compile
//!    ("cannot hold a value of SQL type" / "cannot be read into").
//!
//! 4. A soft-delete column is a nullable timestamp ("a soft-delete column must be").
//! 5. A validation rule is one the entity layer knows ("unknown validation rule").
//!
//! `tests/ui/pass/*.rs` holds the correct versions of the same queries, so a change of the
//! API that breaks them (and would make the failures above pass for the wrong reason) fails
//! this test too.
//!
//! To regenerate the expected output after an intended change of a message:
//! `TRYBUILD=overwrite cargo test -p lifeguard --test compile_fail`.

#[test]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
