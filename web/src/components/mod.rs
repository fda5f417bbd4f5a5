//! Small building blocks shared by the pages.

pub mod enforcement;
pub mod form;
pub mod ui;

pub use enforcement::{EnforcementBanner, ModeBadge, UsageBar};
pub use form::{ErrorNote, FieldError, FormError, LiveCheck, SubmitButton, action_error};
pub use ui::{
    ActionBadge, CallsTable, ConfirmButton, CopyButton, DecisionBadge, EmptyState, Pager,
    SecretOnce, can_admin, fmt_opt_time, fmt_time,
};
