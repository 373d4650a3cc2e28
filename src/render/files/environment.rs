//! The minijinja environment every template runs in, and the fuel that bounds it: per
//! rendering ([`TEMPLATE_FUEL`]) and for all renderings of a run together ([`FuelBudget`]).
#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use minijinja::{Environment, UndefinedBehavior, syntax::SyntaxConfig};

/// Fuel for one rendering: 131,072 instructions, or 8 MiB of strings and lists (minijinja
/// charges one fuel per 64 bytes), eight times what a ConfigMap can hold. The largest example
/// template uses under 200.
pub const TEMPLATE_FUEL: u64 = 131_072;
/// Fuel for every rendering of one run together, across apps and clusters (a few seconds).
pub const TOTAL_TEMPLATE_FUEL: u64 = 200_000_000;
/// The fuel spent by every rendering of one run; shared by all apps' template sets, whose
/// clusters render in parallel.
#[derive(Debug, Default)]
pub struct FuelBudget {
    pub(super) spent: AtomicU64,
    /// A rendering was given up on ([`crate::render::sandbox`]): nothing more renders in this run.
    given_up: AtomicBool,
}

impl FuelBudget {
    /// Charges one rendering's fuel; `false` once the run has spent more than its budget.
    pub(super) fn charge(&self, fuel: u64) -> bool {
        let before = self.spent.fetch_add(fuel, Ordering::Relaxed);
        before.saturating_add(fuel) <= TOTAL_TEMPLATE_FUEL
    }

    /// Whether `fuel` more, not yet charged, would still be within the budget.
    pub(super) fn would_allow(&self, fuel: u64) -> bool {
        self.spent.load(Ordering::Relaxed).saturating_add(fuel) <= TOTAL_TEMPLATE_FUEL
    }

    /// Records that a rendering was given up on: nothing more renders in this run.
    pub(super) fn give_up(&self) {
        self.given_up.store(true, Ordering::Relaxed);
    }

    /// Why no more renderings may run, if that is so.
    pub(super) fn refusal(&self) -> Option<Refusal> {
        if self.given_up.load(Ordering::Relaxed) {
            Some(Refusal::GivenUp)
        } else if self.spent.load(Ordering::Relaxed) > TOTAL_TEMPLATE_FUEL {
            Some(Refusal::Spent)
        } else {
            None
        }
    }
}

/// Why a rendering is refused before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A rendering was given up on ([`crate::render::sandbox`]).
    #[error("not rendered: kdrender gave up on another template of this run")]
    GivenUp,
    /// The run's renderings spent [`TOTAL_TEMPLATE_FUEL`].
    #[error(
        "templates ran more than {} steps in all in this run; this one is not rendered",
        TOTAL_TEMPLATE_FUEL
    )]
    Spent,
}

/// The syntax every template is read with: Jinja2's `trim_blocks` and `lstrip_blocks`.
pub(super) fn syntax() -> SyntaxConfig {
    SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .unwrap_or_default()
}

/// The sandbox every template runs in: strict undefined variables, no auto-escaping, a fuel
/// budget, Jinja2's `trim_blocks` and `lstrip_blocks`, and no loader: templates come only from
/// the app's folder, registered in memory, so an include cannot reach any other file. The
/// enabled built-ins read no clock, randomness or environment. `namespace()` is replaced by an
/// error: a namespace is the one value a template can change, so it can be made to hold
/// itself, and printing, comparing or serialising it would then recurse until the stack
/// overflows.
pub(super) fn environment() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    environment.set_fuel(Some(TEMPLATE_FUEL));
    environment.set_debug(true);
    environment.set_syntax(syntax());
    environment.set_formatter(format_value);
    environment.add_function(
        "namespace",
        |_: minijinja::value::Rest<minijinja::Value>,
         _: minijinja::value::Kwargs|
         -> Result<minijinja::Value, minijinja::Error> {
            Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "namespace() is not available in kdrender templates: a namespace can be made to contain itself, which would crash the renderer; use loop variables, filters (select, map, join, sum) or macros",
            ))
        },
    );
    environment
}

/// Prints a value into a template's output: strings and numbers as minijinja does, lists and
/// maps only as far as the remaining fuel pays for. minijinja charges what an expression
/// prints only after printing it, and a list that holds the same list many times over prints
/// to far more text than its making cost.
fn format_value(
    out: &mut minijinja::Output<'_>,
    state: &mut minijinja::State<'_, '_>,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if value.as_object().is_none() {
        return minijinja::escape_formatter(out, state, value);
    }
    let fuel = state.fuel_levels().map_or(0, |(_, remaining)| remaining);
    let mut bounded = Bounded {
        out,
        left: usize::try_from(fuel.saturating_mul(BYTES_PER_FUEL)).unwrap_or(usize::MAX),
    };
    std::fmt::Write::write_fmt(&mut bounded, format_args!("{value}")).map_err(|_| {
        minijinja::Error::new(
            minijinja::ErrorKind::OutOfFuel,
            "printing this value takes more than the remaining fuel",
        )
    })
}

/// minijinja charges one fuel for this many bytes of data.
const BYTES_PER_FUEL: u64 = 64;

/// A writer that refuses to write more than `left` bytes.
struct Bounded<'a, 'o> {
    out: &'a mut minijinja::Output<'o>,
    left: usize,
}

impl std::fmt::Write for Bounded<'_, '_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.left = self.left.checked_sub(s.len()).ok_or(std::fmt::Error)?;
        self.out.write_str(s)
    }
}
