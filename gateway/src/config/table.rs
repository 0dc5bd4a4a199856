//! The machinery of the settings table in `config.rs`: one row per setting gives its name (the
//! TOML key; the flag is the same name in kebab-case), its type, default, environment variable
//! and doc, and [`settings!`] derives from the rows the clap flags (with their `--help` text),
//! the TOML file's fields, the merge of the layers (file < environment < flag) and the
//! description of every row ([`Setting`]) that validation uses to name a setting.
//!
//! clap only collects text here: it never judges a value, so a bad `MAYFLY_*` variable cannot
//! stop a command that needs no configuration (`mayfly-gateway openapi`), and a bad value is
//! reported with the others, naming its setting, when the configuration is validated.

use std::{
    ffi::{OsStr, OsString},
    fmt,
    path::PathBuf,
};

use clap::builder::{PossibleValue, Resettable, TypedValueParser, ValueRange};
use secrecy::SecretString;
use serde::Deserialize;

/// One row of the settings table.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The key in the TOML file and, in kebab-case, the flag.
    pub name: &'static str,
    /// The environment variable clap reads for the flag.
    pub env: &'static str,
    /// A second environment variable, read when the first is unset (`MAYFLY_DATABASE_URL`).
    pub also_env: Option<&'static str>,
    /// The value used when no layer sets one, written as a flag would take it.
    pub default: Option<&'static str>,
    /// For a setting without a default value: what happens when it is unset.
    pub default_described: Option<&'static str>,
    /// The doc comment's lines; paragraphs are separated by blank lines.
    pub doc: &'static [&'static str],
    /// Whether the TOML file may set it (every setting but `config` itself).
    pub in_file: bool,
}

impl Setting {
    /// The flag, e.g. `--max-body-bytes`.
    pub fn flag(&self) -> String {
        format!("--{}", self.name.replace('_', "-"))
    }

    /// The `--help` text: the doc's first paragraph, then `[default: ...]`, then the other
    /// paragraphs and the second environment variable, without a final period (as clap
    /// renders a doc comment).
    pub fn help(&self) -> String {
        let mut paragraphs = self
            .doc
            .split(|line| line.trim().is_empty())
            .map(|lines| lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty());
        let mut text = paragraphs.next().unwrap_or_default();
        if let Some(default) = self.default.or(self.default_described) {
            strip_period(&mut text);
            text.push_str(&format!(" [default: {default}]"));
        }
        for paragraph in paragraphs {
            strip_period(&mut text);
            text.push_str(". ");
            text.push_str(&paragraph);
        }
        if let Some(also) = self.also_env {
            strip_period(&mut text);
            text.push_str(&format!(". `{also}` is also read"));
        }
        strip_period(&mut text);
        text
    }
}

fn strip_period(text: &mut String) {
    if text.ends_with('.') && !text.ends_with("..") {
        text.pop();
    }
}

/// `name (ENV)`, how every configuration error names its setting.
impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.env)
    }
}

/// The type of a setting's raw value: how it is read from text (a flag or an environment
/// variable) and from the TOML file. Turning it into a domain value (an address, a duration)
/// is validation's job.
pub trait SettingValue: Sized + Default {
    /// What the TOML file holds.
    type File: serde::de::DeserializeOwned;
    /// Kept out of `--help` (the environment variable's value) and `Debug`.
    const SECRET: bool = false;
    /// Values listed in `--help` (display only: clap accepts any text).
    const CHOICES: &'static [&'static str] = &[];
    /// The value of the bare flag (`--insecure-plain-http`); `None`: the flag needs a value.
    const BARE_FLAG: Option<&'static str> = None;
    /// `Ok(None)`: the text means "not set".
    fn from_text(text: &OsStr) -> Result<Option<Self>, String>;
    /// `None`: the file's value means "not set".
    fn from_file(value: Self::File) -> Option<Self>;
}

fn utf8(text: &OsStr) -> Result<&str, String> {
    text.to_str()
        .ok_or_else(|| format!("{text:?} is not valid UTF-8"))
}

/// Text; blank text (flag, environment or file) counts as not set.
impl SettingValue for String {
    type File = String;
    fn from_text(text: &OsStr) -> Result<Option<Self>, String> {
        Ok(Self::from_file(utf8(text)?.to_owned()))
    }
    fn from_file(value: String) -> Option<Self> {
        Some(value).filter(|v| !v.trim().is_empty())
    }
}

/// Text that is never shown; blank counts as not set.
impl SettingValue for SecretString {
    type File = String;
    const SECRET: bool = true;
    fn from_text(text: &OsStr) -> Result<Option<Self>, String> {
        let text = text
            .to_str()
            .ok_or_else(|| "is not valid UTF-8".to_owned())?;
        Ok(Self::from_file(text.to_owned()))
    }
    fn from_file(value: String) -> Option<Self> {
        Some(value)
            .filter(|v| !v.trim().is_empty())
            .map(SecretString::from)
    }
}

/// A comma-separated list; the file may also give a TOML list.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CommaList(pub String);

impl SettingValue for CommaList {
    type File = StringOrList;
    fn from_text(text: &OsStr) -> Result<Option<Self>, String> {
        Ok(String::from_text(text)?.map(CommaList))
    }
    fn from_file(value: StringOrList) -> Option<Self> {
        Some(CommaList(value.joined()))
    }
}

/// A TOML value given either as `"a,b"` or as `["a", "b"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    String(String),
    List(Vec<String>),
}

impl StringOrList {
    fn joined(self) -> String {
        match self {
            StringOrList::String(s) => s,
            StringOrList::List(items) => items.join(","),
        }
    }
}

impl SettingValue for PathBuf {
    type File = PathBuf;
    fn from_text(text: &OsStr) -> Result<Option<Self>, String> {
        if text.is_empty() {
            return Err("is empty; give a path or leave it unset".into());
        }
        Ok(Some(PathBuf::from(text)))
    }
    fn from_file(value: PathBuf) -> Option<Self> {
        Some(value)
    }
}

/// `true` or `false`; the bare flag means `true`.
impl SettingValue for bool {
    type File = bool;
    const CHOICES: &'static [&'static str] = &["true", "false"];
    const BARE_FLAG: Option<&'static str> = Some("true");
    fn from_text(text: &OsStr) -> Result<Option<Self>, String> {
        match utf8(text)? {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            other => Err(format!("{other:?} is not true or false")),
        }
    }
    fn from_file(value: bool) -> Option<Self> {
        Some(value)
    }
}

macro_rules! whole_number {
    ($($ty:ty),*) => {$(
        impl SettingValue for $ty {
            type File = $ty;
            fn from_text(text: &OsStr) -> Result<Option<Self>, String> {
                let text = utf8(text)?;
                text.parse()
                    .map(Some)
                    .map_err(|e| format!("{text:?} is not a whole number: {e}"))
            }
            fn from_file(value: $ty) -> Option<Self> {
                Some(value)
            }
        }
    )*};
}
whole_number!(u32, usize);

/// The value of one setting from its layers, highest first: the flag or its environment
/// variable (`given`, as clap found it), the second environment variable, the file. A value
/// that cannot be read is reported, naming the setting, and the next layer is used.
pub fn resolve<T: SettingValue>(
    setting: &Setting,
    given: Option<OsString>,
    file: Option<T::File>,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> Option<T> {
    let mut from_text = |text: &OsStr| {
        T::from_text(text).unwrap_or_else(|e| {
            errors.push(format!("{setting}: {e}"));
            None
        })
    };
    given
        .and_then(|text| from_text(&text))
        .or_else(|| {
            let name = setting.also_env?;
            from_text(OsStr::new(&env(name)?))
        })
        .or_else(|| file.and_then(T::from_file))
}

/// A setting's default value. The table's defaults are read like a flag's text; one that
/// cannot be is a mistake in the table, reported like any other problem.
pub fn default_of<T: SettingValue>(setting: &Setting, errors: &mut Vec<String>) -> T {
    let text = setting.default.unwrap_or_default();
    match T::from_text(OsStr::new(text)) {
        Ok(Some(value)) => value,
        Ok(None) | Err(_) => {
            errors.push(format!(
                "{setting}: the built-in default {text:?} is invalid"
            ));
            T::default()
        }
    }
}

/// clap's value parser for every setting: it takes any text (the setting's [`SettingValue`]
/// judges it later) and only shows the type's choices in `--help`.
#[derive(Clone)]
pub struct AnyText(pub &'static [&'static str]);

impl TypedValueParser for AnyText {
    type Value = OsString;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<OsString, clap::Error> {
        Ok(value.to_owned())
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        (!self.0.is_empty())
            .then(|| Box::new(self.0.iter().copied().map(PossibleValue::new)) as Box<_>)
    }
}

/// How many values the flag takes: none or one when it has a bare form, else clap's default.
pub fn num_args(bare_flag: Option<&'static str>) -> Resettable<ValueRange> {
    match bare_flag {
        Some(_) => Resettable::Value((0..=1).into()),
        None => Resettable::Reset,
    }
}

/// `Some(value)` when the row gives one.
macro_rules! optional {
    () => {
        None
    };
    ($value:literal) => {
        Some($value)
    };
}

/// The merged raw type of a row: the value itself when the row has a default, else an option.
macro_rules! raw_type {
    ($ty:ty) => { Option<$ty> };
    ($ty:ty, $default:literal) => { $ty };
}

/// A row's merged value with its default applied, if it has one.
macro_rules! with_default {
    ($setting:expr, $value:expr, $errors:expr) => {
        $value
    };
    ($setting:expr, $value:expr, $errors:expr, $default:literal) => {
        match $value {
            Some(value) => value,
            None => $crate::config::table::default_of($setting, $errors),
        }
    };
}

/// The settings table. Rows are
///
/// ```text
/// /// Doc (first paragraph, then `[default: ...]` in --help, then further paragraphs).
/// name: Type = "default", env "MAYFLY_NAME";
/// name: Type, default "what happens when unset", env "MAYFLY_NAME", also "MAYFLY_OTHER";
/// ```
///
/// `Type` is a [`SettingValue`]. The rows under `flag_and_environment` cannot be set by the
/// file (the file's own path); those under `everywhere` can. Generates [`Flags`] (clap),
/// `FileConfig` (the TOML file, unknown keys refused), `Raw` (the merged values) with
/// `Raw::merge`, and `SETTINGS`, the rows' descriptions.
///
/// [`Flags`]: crate::config::Flags
macro_rules! settings {
    (
        flag_and_environment {
            $(
                $(#[doc = $cdoc:literal])*
                $cname:ident : $cty:ty $(= $cdefault:literal)? $(, default $cdescribed:literal)?,
                env $cenv:literal $(, also $calso:literal)?;
            )*
        }
        everywhere {
            $(
                $(#[doc = $doc:literal])*
                $name:ident : $ty:ty $(= $default:literal)? $(, default $described:literal)?,
                env $env:literal $(, also $also:literal)?;
            )*
        }
    ) => {
        /// Command-line flags, each also read from its environment variable (shown in
        /// `--help`); clap keeps them as text. Generated from the settings table.
        #[derive(Default, clap::Args)]
        pub struct Flags {
            $(
                #[arg(
                    long,
                    env = $cenv,
                    help = SETTINGS.$cname.help(),
                    hide_env_values = <$cty as $crate::config::table::SettingValue>::SECRET,
                    value_parser = $crate::config::table::AnyText(<$cty as $crate::config::table::SettingValue>::CHOICES),
                    num_args = $crate::config::table::num_args(<$cty as $crate::config::table::SettingValue>::BARE_FLAG),
                    default_missing_value = <$cty as $crate::config::table::SettingValue>::BARE_FLAG,
                )]
                pub $cname: Option<std::ffi::OsString>,
            )*
            $(
                #[arg(
                    long,
                    env = $env,
                    help = SETTINGS.$name.help(),
                    hide_env_values = <$ty as $crate::config::table::SettingValue>::SECRET,
                    value_parser = $crate::config::table::AnyText(<$ty as $crate::config::table::SettingValue>::CHOICES),
                    num_args = $crate::config::table::num_args(<$ty as $crate::config::table::SettingValue>::BARE_FLAG),
                    default_missing_value = <$ty as $crate::config::table::SettingValue>::BARE_FLAG,
                )]
                pub $name: Option<std::ffi::OsString>,
            )*
        }

        /// Secret values are not shown.
        impl std::fmt::Debug for Flags {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let mut out = f.debug_struct("Flags");
                $(
                    if <$cty as $crate::config::table::SettingValue>::SECRET {
                        out.field(stringify!($cname), &self.$cname.as_ref().map(|_| "***"));
                    } else {
                        out.field(stringify!($cname), &self.$cname);
                    }
                )*
                $(
                    if <$ty as $crate::config::table::SettingValue>::SECRET {
                        out.field(stringify!($name), &self.$name.as_ref().map(|_| "***"));
                    } else {
                        out.field(stringify!($name), &self.$name);
                    }
                )*
                out.finish()
            }
        }

        /// The TOML file: the settings in snake_case; an unknown key is an error.
        #[derive(Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileConfig {
            $( $name: Option<<$ty as $crate::config::table::SettingValue>::File>, )*
        }

        /// Every setting the file may give, merged from its layers (defaults applied).
        struct Raw {
            $(
                $(#[doc = $doc])*
                $name: $crate::config::table::raw_type!($ty $(, $default)?),
            )*
        }

        impl Raw {
            /// Merges file < environment < flag (`flags` already holds the environment).
            fn merge(
                flags: Flags,
                file: FileConfig,
                env: &dyn Fn(&str) -> Option<String>,
                errors: &mut Vec<String>,
            ) -> Raw {
                Raw {
                    $(
                        $name: $crate::config::table::with_default!(
                            &SETTINGS.$name,
                            $crate::config::table::resolve::<$ty>(
                                &SETTINGS.$name, flags.$name, file.$name, env, errors,
                            ),
                            errors
                            $(, $default)?
                        ),
                    )*
                }
            }
        }

        /// The description of every setting, by name.
        pub struct SettingTable {
            $( pub $cname: $crate::config::table::Setting, )*
            $( pub $name: $crate::config::table::Setting, )*
        }

        /// The rows of the settings table, as written.
        pub const SETTINGS: SettingTable = SettingTable {
            $(
                $cname: $crate::config::table::Setting {
                    name: stringify!($cname),
                    env: $cenv,
                    also_env: $crate::config::table::optional!($($calso)?),
                    default: $crate::config::table::optional!($($cdefault)?),
                    default_described: $crate::config::table::optional!($($cdescribed)?),
                    doc: &[$($cdoc),*],
                    in_file: false,
                },
            )*
            $(
                $name: $crate::config::table::Setting {
                    name: stringify!($name),
                    env: $env,
                    also_env: $crate::config::table::optional!($($also)?),
                    default: $crate::config::table::optional!($($default)?),
                    default_described: $crate::config::table::optional!($($described)?),
                    doc: &[$($doc),*],
                    in_file: true,
                },
            )*
        };

        impl SettingTable {
            /// Every row, in table order (the order of `--help`).
            pub fn rows(&self) -> Vec<&$crate::config::table::Setting> {
                vec![$(&self.$cname,)* $(&self.$name,)*]
            }
        }
    };
}

pub(crate) use {optional, raw_type, settings, with_default};
