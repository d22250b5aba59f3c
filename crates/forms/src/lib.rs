#![doc = include_str!("../README.md")]

pub mod error;
pub mod expr;
pub mod geo;
pub mod load;
pub mod model;
pub mod state;

pub use error::{ErrorKind, FormError, FormErrors};
pub use expr::{Date, Expression, Value};
pub use load::{
    Attachments, Sheets, load_csv, load_csv_with, load_markdown, load_markdown_with, load_text,
    load_text_with, load_workbook, load_workbook_with, load_xls, load_xlsx,
};
pub use model::{
    Choice, DataFile, Flag, Form, Question, QuestionType, Settings, Summary, Translated,
};
pub use state::{Answers, Completion, EvalContext, FormState, Issue, IssueKind, Progress};
