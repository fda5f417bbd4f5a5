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

/// Live validation of a form on the server (the same parser saving uses),
/// a moment after the admin stops typing. While typing, only fields that
/// have something in them are complained about: an empty name is not an
/// error until the form is submitted.
pub struct LiveCheck<I: Send + Sync + 'static> {
    /// The errors to show (already filtered to filled-in fields).
    pub error: RwSignal<Option<AppError>>,
    action: Action<I, Result<(), AppError>>,
    generation: StoredValue<u64>,
}

impl<I: Send + Sync + 'static> Clone for LiveCheck<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I: Send + Sync + 'static> Copy for LiveCheck<I> {}

/// The delay after the last keystroke before the form is checked.
const LIVE_CHECK_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

impl<I: Clone + Send + Sync + 'static> LiveCheck<I> {
    /// `check` is the server function; `filled(field)` says whether the
    /// admin has typed into `field` yet.
    pub fn new<Fu>(
        check: impl Fn(I) -> Fu + Send + Sync + 'static,
        filled: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self
    where
        Fu: std::future::Future<Output = Result<(), AppError>> + Send + 'static,
    {
        let error = RwSignal::new(None::<AppError>);
        let action = Action::new(move |input: &I| check(input.clone()));
        Effect::new(move |_| {
            if let Some(r) = action.value().get() {
                error.set(r.err().and_then(|mut e| {
                    e.0.fields.retain(|f, _| filled(f));
                    (!e.0.fields.is_empty()).then_some(e)
                }));
            }
        });
        LiveCheck {
            error,
            action,
            generation: StoredValue::new(0),
        }
    }

    /// Checks `input` once the admin pauses (later calls replace earlier
    /// ones).
    pub fn schedule(&self, input: I) {
        let (generation, action) = (self.generation, self.action);
        let my = generation.get_value() + 1;
        generation.set_value(my);
        set_timeout(
            move || {
                if generation.get_value() == my {
                    action.dispatch(input);
                }
            },
            LIVE_CHECK_DELAY,
        );
    }

    /// The last check passed.
    pub fn passed(&self) -> bool {
        self.error.get().is_none() && self.action.value().get().is_some()
    }

    /// Forgets the last result (after the form was saved).
    pub fn clear(&self) {
        self.error.set(None);
    }
}
