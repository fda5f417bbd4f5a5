//! Small building blocks shared by the pages.

pub mod form;
pub mod ui;

pub use form::{ErrorNote, FieldError, FormError, LiveCheck, SubmitButton, action_error};
pub use ui::{
    ActionBadge, CallsTable, ConfirmButton, CopyButton, DecisionBadge, EmptyState, Pager,
    SecretOnce, can_admin, fmt_opt_time, fmt_time,
};
