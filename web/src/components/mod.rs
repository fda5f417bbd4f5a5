//! Small building blocks shared by the pages.

pub mod form;

pub use form::{ErrorNote, FieldError, FormError, SubmitButton, action_error};
