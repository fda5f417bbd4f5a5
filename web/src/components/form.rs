//! Form helpers: field-level and form-level error messages for server
//! actions, and a submit button that shows progress.

use leptos::prelude::*;
use shared::error::ErrorKind;

use crate::error::AppError;

/// The error of an action's latest result, if it failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || match action.value().get() {
        Some(Err(e)) => Some(e),
        _ => None,
    })
}

/// The message for one field, shown under its input and linked to it for
/// screen readers via `id="<field>-error"`.
#[component]
pub fn FieldError(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.field(field)).map(|msg| {
            view! {
                <p class="field-error" id=format!("{field}-error") role="alert">
                    {msg}
                </p>
            }
        })
    }
}

/// A form-level message for errors that are not about one field.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| e.kind() != ErrorKind::Invalid || e.0.fields.is_empty())
            .map(|e| view! { <ErrorNote error=e/> })
    }
}

/// A boxed error message.
#[component]
pub fn ErrorNote(error: AppError) -> impl IntoView {
    let class = match error.kind() {
        ErrorKind::Forbidden | ErrorKind::NotFound => "notice notice-warn",
        _ => "notice notice-error",
    };
    view! {
        <div class=class role="alert">
            {error.message().to_owned()}
        </div>
    }
}

/// A submit button that disables itself and says so while `pending`.
#[component]
pub fn SubmitButton(
    pending: Signal<bool>,
    label: &'static str,
    busy_label: &'static str,
    #[prop(optional)] class: Option<&'static str>,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class=class.unwrap_or("btn btn-primary")
            disabled=move || pending.get()
            aria-busy=move || pending.get().to_string()
        >
            {move || if pending.get() { busy_label } else { label }}
        </button>
    }
}
