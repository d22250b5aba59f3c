//! The XLSForm model: settings, a tree of questions, choice lists, languages.

use crate::expr::Expression;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Language key used for columns without `::<lang>` (plain `label`, `hint`, …).
pub const DEFAULT_LANG: &str = "default";

/// A text in several languages: language → text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Translated(pub BTreeMap<String, String>);

impl Translated {
    /// The text in `lang`, else in `fallback` (the form's default language), else the plain
    /// column, else any. `lang` may be the column's full name (`Español (es)`) or just the code
    /// in its parentheses (`es`), which is what the app knows.
    pub fn get(&self, lang: &str, fallback: Option<&str>) -> Option<&str> {
        self.lookup(lang)
            .or_else(|| fallback.and_then(|f| self.lookup(f)))
            .or_else(|| self.0.get(DEFAULT_LANG))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
    }

    fn lookup(&self, lang: &str) -> Option<&String> {
        self.0.get(lang).or_else(|| {
            let code = format!("({lang})");
            self.0
                .iter()
                .find(|(name, _)| name.ends_with(&code))
                .map(|(_, text)| text)
        })
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Question types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", content = "list", rename_all = "snake_case")]
pub enum QuestionType {
    Text,
    Integer,
    Decimal,
    Range,
    Date,
    SelectOne(String),
    SelectMultiple(String),
    Rank(String),
    Note,
    File,
    Calculate,
    /// `geopoint`: one point, `lat lon [altitude [accuracy]]` (see [`crate::geo`]).
    Geopoint,
    /// `geotrace`: a line of two points or more, separated by `;`.
    Geotrace,
    /// `geoshape`: a closed polygon (at least four points, the last one equal to the first).
    Geoshape,
    Group,
    Repeat,
    /// Metadata (`start`, `end`, `today`, `deviceid`, `username`, `audit`, …): not shown.
    Metadata(String),
    /// Known XLSForm input types this engine stores as text without special handling
    /// (`time`, `datetime`, `barcode`, `image`, `acknowledge`, `hidden`, …).
    Other(String),
}

impl QuestionType {
    /// A question a person answers (not a group, note, calculation or metadata).
    pub fn is_input(&self) -> bool {
        !matches!(
            self,
            QuestionType::Note
                | QuestionType::Calculate
                | QuestionType::Group
                | QuestionType::Repeat
                | QuestionType::Metadata(_)
        )
    }

    /// `geopoint`, `geotrace` or `geoshape`.
    pub fn is_geo(&self) -> bool {
        matches!(
            self,
            QuestionType::Geopoint | QuestionType::Geotrace | QuestionType::Geoshape
        )
    }

    pub fn is_container(&self) -> bool {
        matches!(self, QuestionType::Group | QuestionType::Repeat)
    }

    /// The choice list of a select or rank.
    pub fn list(&self) -> Option<&str> {
        match self {
            QuestionType::SelectOne(l)
            | QuestionType::SelectMultiple(l)
            | QuestionType::Rank(l) => Some(l),
            _ => None,
        }
    }
}

/// A `required` / `read_only` column: `yes`/`true` or an expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Flag {
    Always(bool),
    When(Expression),
}

/// One row of the survey sheet (groups and repeats hold their children).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Question {
    pub kind: QuestionType,
    pub name: String,
    /// Slash-separated path of names from the top (`section/species/status`), without indices.
    pub path: String,
    /// The row in the survey sheet.
    pub row: usize,
    pub label: Translated,
    pub hint: Translated,
    pub required: Flag,
    pub required_message: Translated,
    pub relevant: Option<Expression>,
    pub constraint: Option<Expression>,
    pub constraint_message: Translated,
    pub calculation: Option<Expression>,
    pub default: Option<String>,
    pub read_only: Flag,
    pub choice_filter: Option<Expression>,
    pub repeat_count: Option<Expression>,
    pub appearance: Option<String>,
    /// `select_* LIST or_other`: an extra "other" choice and a free-text answer at `PATH_other`.
    pub or_other: bool,
    /// `parameters` column (e.g. `start=0 end=10 step=1` for ranges), raw.
    pub parameters: Option<String>,
    /// Columns this engine does not interpret, by header.
    pub extra: BTreeMap<String, String>,
    pub children: Vec<Question>,
}

impl Question {
    /// Whether the appearance contains `word` (e.g. `multiline`, `table-list`).
    pub fn has_appearance(&self, word: &str) -> bool {
        self.appearance
            .as_deref()
            .is_some_and(|a| a.split_whitespace().any(|w| w == word))
    }

    /// Visit this question and all its descendants, depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Question)) {
        f(self);
        for c in &self.children {
            c.walk(f);
        }
    }
}

/// One row of the choices sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub name: String,
    pub label: Translated,
    /// Other columns (used by `choice_filter`), by header.
    pub extra: BTreeMap<String, String>,
    pub row: usize,
}

/// A CSV file attached to the form (its "media"), parsed: for `pulldata()` and `search()`.
/// Choices of `select_one_from_file` are also put on [`Form::choices`] under the file name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DataFile {
    /// Column names, from the first line, trimmed.
    pub columns: Vec<String>,
    /// The data lines, each aligned with `columns` (short lines padded with "").
    pub rows: Vec<Vec<String>>,
}

impl DataFile {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// `pulldata()`: the value in `column` of the first row whose `key_column` is `key`.
    pub fn lookup(&self, column: &str, key_column: &str, key: &str) -> Option<&str> {
        let (c, k) = (self.column(column)?, self.column(key_column)?);
        self.rows
            .iter()
            .find(|r| r[k] == key)
            .map(|r| r[c].as_str())
    }
}

/// The settings sheet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Settings {
    pub form_id: Option<String>,
    pub version: Option<String>,
    pub default_language: Option<String>,
    /// `form_title` (and `form_title::<lang>`).
    pub title: Translated,
    /// Other columns, by header.
    pub extra: BTreeMap<String, String>,
}

/// A loaded, checked form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Form {
    pub settings: Settings,
    pub questions: Vec<Question>,
    pub choices: BTreeMap<String, Vec<Choice>>,
    /// Languages found in `::<lang>` columns (plus [`DEFAULT_LANG`] if plain columns are used).
    pub languages: Vec<String>,
    /// CSV files attached to the form, by file name (`cms-species.csv`).
    #[serde(skip)]
    pub files: BTreeMap<String, DataFile>,
    /// Files the form reads (`select_one_from_file`, `pulldata()`, `search()`), by file name.
    /// Those not in [`Form::files`] are listed by [`Form::missing_files`].
    pub needs_files: BTreeSet<String>,
    /// What pyxform accepts but a form author should fix; the form loads all the same.
    #[serde(skip)]
    pub warnings: Vec<crate::FormError>,
}

impl Form {
    /// Visit every question, depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Question)) {
        for q in &self.questions {
            q.walk(f);
        }
    }

    /// All questions, depth first.
    pub fn all_questions(&self) -> Vec<&Question> {
        let mut v = Vec::new();
        self.walk(&mut |q| v.push(q));
        v
    }

    /// The first question with this name.
    pub fn question(&self, name: &str) -> Option<&Question> {
        self.all_questions().into_iter().find(|q| q.name == name)
    }

    /// Counts for summaries: (input questions, groups, repeats).
    pub fn counts(&self) -> (usize, usize, usize) {
        let (mut q, mut g, mut r) = (0, 0, 0);
        self.walk(&mut |x| match x.kind {
            QuestionType::Group => g += 1,
            QuestionType::Repeat => r += 1,
            _ => q += 1,
        });
        (q, g, r)
    }

    /// A summary for tools and logs.
    pub fn summary(&self) -> Summary {
        let (questions, groups, repeats) = self.counts();
        Summary {
            form_id: self.settings.form_id.clone(),
            version: self.settings.version.clone(),
            questions,
            groups,
            repeats,
            choice_lists: self.choices.len(),
            languages: self.languages.clone(),
        }
    }

    /// The choices of a list (empty if unknown).
    pub fn choice_list(&self, list: &str) -> &[Choice] {
        self.choices.get(list).map_or(&[], Vec::as_slice)
    }

    /// Files the form reads that were not attached when it was loaded: a form published
    /// without them cannot work, so the content pack and the server refuse it.
    pub fn missing_files(&self) -> Vec<&str> {
        self.needs_files
            .iter()
            .filter(|f| !self.files.contains_key(*f))
            .map(String::as_str)
            .collect()
    }

    /// The language to show when none is chosen.
    pub fn default_language(&self) -> &str {
        self.settings
            .default_language
            .as_deref()
            .or_else(|| self.languages.first().map(String::as_str))
            .unwrap_or(DEFAULT_LANG)
    }
}

/// Counts describing a form (`questions` excludes groups and repeats).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub form_id: Option<String>,
    pub version: Option<String>,
    pub questions: usize,
    pub groups: usize,
    pub repeats: usize,
    pub choice_lists: usize,
    pub languages: Vec<String>,
}
