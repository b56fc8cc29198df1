//! Field validators, declared on columns with `#[validate(…)]`, and the error that reports
//! every failing field at once.
//!
//! ```
//! lifeguard_schema::table! {
//!     users (id) {
//!         id -> Int8,
//!         #[max_length = 20]
//!         #[validate(length(min = 2))]
//!         name -> Varchar,
//!         #[validate(email)]
//!         email -> Text,
//!         #[validate(range(min = 0, max = 150))]
//!         age -> Nullable<Int4>,
//!     }
//! }
//! use lifeguard_schema::entity::{LifeRecord, ValidationErrors};
//!
//! let mut rec = users::Record::default();
//! rec.name.set("a");
//! rec.email.set("not an address");
//! rec.age.set(Some(200));
//! let mut errors = ValidationErrors::default();
//! rec.validate_fields(&mut errors);
//! assert_eq!(errors.fields(), vec!["name", "email", "age"]);
//! ```
//!
//! Rules: `length(min = …, max = …)` (characters, for text), `range(min = …, max = …)`
//! (for numbers), `email`, `not_blank`, `custom = path::to::fn` (a
//! `fn(&T) -> Result<(), String>`). A column's `#[max_length = n]` is also checked. A NULL
//! (`None`) passes every rule but `custom`'s, which sees the `Option`; on an array column,
//! every element is checked.

use std::fmt;

/// One failed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field (column) name, or `""` for a model-level rule.
    pub field: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

/// Every rule that failed, in the order they were checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors {
    errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// Records that `field` fails with `message`.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// Whether nothing failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The failures.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The failing fields, each once, in order.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for e in &self.errors {
            if !out.contains(&e.field) {
                out.push(e.field);
            }
        }
        out
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if e.field.is_empty() {
                write!(f, "{}", e.message)?;
            } else {
                write!(f, "{}: {}", e.field, e.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// A value a text rule reads: text, an `Option` of it (NULL passes), or an array (each
/// element is checked).
pub trait TextValue {
    /// Calls `f` with each text the value holds.
    fn each_text(&self, f: &mut dyn FnMut(&str));
}

impl TextValue for String {
    fn each_text(&self, f: &mut dyn FnMut(&str)) {
        f(self)
    }
}

impl TextValue for crate::values::Label {
    fn each_text(&self, f: &mut dyn FnMut(&str)) {
        f(self.as_str())
    }
}

impl<T: TextValue> TextValue for Option<T> {
    fn each_text(&self, f: &mut dyn FnMut(&str)) {
        if let Some(v) = self {
            v.each_text(f)
        }
    }
}

impl<T: TextValue> TextValue for Vec<T> {
    fn each_text(&self, f: &mut dyn FnMut(&str)) {
        for v in self {
            v.each_text(f)
        }
    }
}

/// A value a range rule reads: a number, an `Option` of it (NULL passes), or an array.
pub trait NumberValue {
    /// Calls `f` with each number the value holds.
    fn each_number(&self, f: &mut dyn FnMut(f64));
}

/// A bound of a range rule: any Rust number.
pub trait Bound {
    /// The bound as `f64`.
    fn to_f64(self) -> f64;
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl NumberValue for $t {
            fn each_number(&self, f: &mut dyn FnMut(f64)) {
                f(*self as f64)
            }
        }
        impl Bound for $t {
            fn to_f64(self) -> f64 {
                self as f64
            }
        }
    )*};
}
numbers!(i16, i32, i64, f32, f64);

impl Bound for i8 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Bound for u32 {
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Bound for u64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl<T: NumberValue> NumberValue for Option<T> {
    fn each_number(&self, f: &mut dyn FnMut(f64)) {
        if let Some(v) = self {
            v.each_number(f)
        }
    }
}

impl<T: NumberValue> NumberValue for Vec<T> {
    fn each_number(&self, f: &mut dyn FnMut(f64)) {
        for v in self {
            v.each_number(f)
        }
    }
}

/// `length(min = …, max = …)`: the text's length in characters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Length {
    min: Option<usize>,
    max: Option<usize>,
}

impl Length {
    /// No bounds yet.
    pub fn new() -> Length {
        Length::default()
    }
    /// At least `n` characters.
    pub fn min(mut self, n: usize) -> Length {
        self.min = Some(n);
        self
    }
    /// At most `n` characters.
    pub fn max(mut self, n: usize) -> Length {
        self.max = Some(n);
        self
    }
    /// Checks `value`, adding a failure for `field`.
    pub fn check(
        &self,
        value: &impl TextValue,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        value.each_text(&mut |text| {
            let n = text.chars().count();
            match (self.min, self.max) {
                (Some(min), _) if n < min => errors.add(
                    field,
                    format!("must be at least {min} characters long (is {n})"),
                ),
                (_, Some(max)) if n > max => errors.add(
                    field,
                    format!("must be at most {max} characters long (is {n})"),
                ),
                _ => {}
            }
        });
    }
}

/// `range(min = …, max = …)`: a number's bounds, inclusive.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    min: Option<f64>,
    max: Option<f64>,
}

impl Range {
    /// No bounds yet.
    pub fn new() -> Range {
        Range::default()
    }
    /// At least `n`.
    pub fn min(mut self, n: impl Bound) -> Range {
        self.min = Some(n.to_f64());
        self
    }
    /// At most `n`.
    pub fn max(mut self, n: impl Bound) -> Range {
        self.max = Some(n.to_f64());
        self
    }
    /// Checks `value`, adding a failure for `field`.
    pub fn check(
        &self,
        value: &impl NumberValue,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        value.each_number(&mut |x| match (self.min, self.max) {
            (Some(min), _) if x < min => {
                errors.add(field, format!("must be at least {min} (is {x})"))
            }
            (_, Some(max)) if x > max => {
                errors.add(field, format!("must be at most {max} (is {x})"))
            }
            _ => {}
        });
    }
}

/// `email`: one `@` with something before it and a dotted domain after it, no spaces.
pub fn email(value: &impl TextValue, field: &'static str, errors: &mut ValidationErrors) {
    value.each_text(&mut |text| email_text(text, field, errors));
}

fn email_text(text: &str, field: &'static str, errors: &mut ValidationErrors) {
    let ok = match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|p| !p.is_empty())
                && !text.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if !ok {
        errors.add(field, "is not an email address");
    }
}

/// `not_blank`: text with something other than whitespace.
pub fn not_blank(value: &impl TextValue, field: &'static str, errors: &mut ValidationErrors) {
    value.each_text(&mut |t| {
        if t.trim().is_empty() {
            errors.add(field, "must not be blank");
        }
    });
}

/// `custom = f`: `f(value)` returns the failure's message.
pub fn custom<T>(
    value: &T,
    f: impl FnOnce(&T) -> Result<(), String>,
    field: &'static str,
    errors: &mut ValidationErrors,
) {
    if let Err(message) = f(value) {
        errors.add(field, message);
    }
}
