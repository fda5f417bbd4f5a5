//! Small building blocks shared by the pages.

pub mod form;
pub mod ui;

pub use form::{ErrorNote, FieldError, FormError, SubmitButton, action_error};
pub use ui::{
    ActionBadge, ConfirmButton, CopyButton, DecisionBadge, EmptyState, fmt_opt_time, fmt_time,
};
