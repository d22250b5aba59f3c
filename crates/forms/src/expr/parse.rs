use super::{BinOp, Expr, FUNCTIONS};

/// A syntax error, with the 1-based character position in the expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error at character {position}: {message}")]
pub struct SyntaxError {
    pub position: usize,
    pub message: String,
    /// The expression is well formed but uses something this engine deliberately does not
    /// support (e.g. `pulldata()`, which reads a CSV file attached to the form).
    pub unsupported: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Str(String),
    Ref(String),
    Name(String),
    Dot,
    DotDot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Op(BinOp),
    Minus,
}

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        position,
        message: message.into(),
        unsupported: false,
    })
}

fn unsupported<T>(position: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
    Err(SyntaxError {
        position,
        message: message.into(),
        unsupported: true,
    })
}

/// Functions of ODK/XPath this engine refuses on purpose, with the reason a form author reads.
fn refused_function(name: &str) -> Option<&'static str> {
    Some(match name {
        "instance" => {
            "instance() reads a secondary instance (choice lists or attached files) by XPath; write ${name} references and choice_filter instead"
        }
        "random" | "uuid" | "digest" => {
            "this function reads randomness or device state, which the engine keeps pure (answers must evaluate the same everywhere); compute it in the app"
        }
        _ => return None,
    })
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '[' => {
                i += 1;
                Tok::LBracket
            }
            ']' => {
                i += 1;
                Tok::RBracket
            }
            '+' => {
                i += 1;
                Tok::Op(BinOp::Add)
            }
            '-' => {
                i += 1;
                Tok::Minus
            }
            '*' => {
                i += 1;
                Tok::Op(BinOp::Mul)
            }
            '=' => {
                i += 1;
                Tok::Op(BinOp::Eq)
            }
            '!' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 2;
                    Tok::Op(BinOp::Ne)
                } else {
                    return err(pos, "'!' must be followed by '='");
                }
            }
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                i += if eq { 2 } else { 1 };
                Tok::Op(match (c, eq) {
                    ('<', false) => BinOp::Lt,
                    ('<', true) => BinOp::Le,
                    ('>', false) => BinOp::Gt,
                    _ => BinOp::Ge,
                })
            }
            '\'' | '"' => {
                let mut j = i + 1;
                while j < chars.len() && chars[j] != c {
                    j += 1;
                }
                if j >= chars.len() {
                    return err(pos, "unterminated string literal");
                }
                let s: String = chars[i + 1..j].iter().collect();
                i = j + 1;
                Tok::Str(s)
            }
            '$' => {
                if chars.get(i + 1) != Some(&'{') {
                    return err(pos, "expected '{' after '$'");
                }
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '}' {
                    j += 1;
                }
                if j >= chars.len() {
                    return err(pos, "unterminated ${…} reference");
                }
                let name: String = chars[i + 2..j].iter().collect();
                let name = name.trim().to_string();
                if name.is_empty() || !name.chars().all(is_name_char) {
                    return err(pos, format!("invalid reference name '{name}'"));
                }
                i = j + 1;
                Tok::Ref(name)
            }
            '.' if chars.get(i + 1) == Some(&'.') => {
                i += 2;
                Tok::DotDot
            }
            '.' if !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                i += 1;
                Tok::Dot
            }
            c if c.is_ascii_digit() || c == '.' => {
                let mut j = i;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                    j += 1;
                }
                let s: String = chars[i..j].iter().collect();
                let n: f64 = match s.parse() {
                    Ok(n) => n,
                    Err(_) => return err(pos, format!("invalid number '{s}'")),
                };
                i = j;
                Tok::Num(n)
            }
            c if is_name_start(c) => {
                let mut j = i;
                while j < chars.len() && is_name_char(chars[j]) {
                    j += 1;
                }
                let s: String = chars[i..j].iter().collect();
                i = j;
                Tok::Name(s)
            }
            '‘' | '’' | '“' | '”' | '‚' | '„' | '«' | '»' => {
                let straight = if matches!(c, '‘' | '’' | '‚') {
                    "'"
                } else {
                    "\""
                };
                return err(
                    pos,
                    format!(
                        "typographic quote '{c}': write a straight quote {straight} instead (spreadsheet and word-processing programs replace quotes as you type; turn off \"smart quotes\" or retype it)"
                    ),
                );
            }
            _ => return err(pos, format!("unexpected character '{c}'")),
        };
        out.push((tok, pos));
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    end: usize,
}

pub(crate) fn precedence(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne => 3,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
        BinOp::Add | BinOp::Sub => 5,
        BinOp::Mul | BinOp::Div | BinOp::Mod => 6,
    }
}

impl Parser {
    fn pos(&self) -> usize {
        self.toks.get(self.i).map_or(self.end, |t| t.1)
    }

    /// The binary operator at the cursor, if any (`and`, `or`, `div`, `mod` are names here).
    fn peek_op(&self) -> Option<BinOp> {
        match self.toks.get(self.i).map(|t| &t.0) {
            Some(Tok::Op(op)) => Some(*op),
            Some(Tok::Minus) => Some(BinOp::Sub),
            Some(Tok::Name(n)) => match n.as_str() {
                "and" => Some(BinOp::And),
                "or" => Some(BinOp::Or),
                "div" => Some(BinOp::Div),
                "mod" => Some(BinOp::Mod),
                _ => None,
            },
            _ => None,
        }
    }

    fn expr(&mut self, min_prec: u8) -> Result<Expr, SyntaxError> {
        let mut lhs = self.unary()?;
        while let Some(op) = self.peek_op() {
            let p = precedence(op);
            if p < min_prec {
                break;
            }
            self.i += 1;
            let rhs = self.expr(p + 1)?;
            lhs = Expr::Bin(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if matches!(self.toks.get(self.i), Some((Tok::Minus, _))) {
            self.i += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.postfix()
    }

    /// A primary followed by XPath predicates: `${x}[. > 3]`, `${x}[2]`.
    fn postfix(&mut self) -> Result<Expr, SyntaxError> {
        let mut e = self.primary()?;
        while let Some((Tok::LBracket, pos)) = self.toks.get(self.i).cloned() {
            if !matches!(e, Expr::Ref(_) | Expr::Filter(..)) {
                return err(pos, "a predicate [...] can only follow a ${name} reference");
            }
            self.i += 1;
            let predicate = self.expr(0)?;
            self.expect(&Tok::RBracket, "']'")?;
            e = Expr::Filter(Box::new(e), Box::new(predicate));
        }
        Ok(e)
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<(), SyntaxError> {
        match self.toks.get(self.i) {
            Some((t, _)) if t == want => {
                self.i += 1;
                Ok(())
            }
            Some((_, p)) => err(*p, format!("expected {what}")),
            None => err(self.end, format!("expected {what} before the end")),
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let Some((tok, pos)) = self.toks.get(self.i).cloned() else {
            return err(self.end, "unexpected end of expression");
        };
        self.i += 1;
        Ok(match tok {
            Tok::Num(n) => Expr::Num(n),
            Tok::Str(s) => Expr::Str(s),
            Tok::Ref(r) => Expr::Ref(r),
            Tok::Dot => Expr::Current,
            Tok::DotDot => Expr::Parent,
            Tok::LParen => {
                let e = self.expr(0)?;
                self.expect(&Tok::RParen, "')'")?;
                e
            }
            Tok::Name(name) => {
                if matches!(self.toks.get(self.i), Some((Tok::LParen, _))) {
                    self.i += 1;
                    let fname = name.strip_prefix("jr:").unwrap_or(&name).to_string();
                    if let Some(reason) = refused_function(&fname) {
                        return unsupported(pos, reason);
                    }
                    let Some(&(_, min, max)) = FUNCTIONS.iter().find(|f| f.0 == fname) else {
                        return err(pos, format!("unknown function '{name}()'"));
                    };
                    let mut args = Vec::new();
                    if !matches!(self.toks.get(self.i), Some((Tok::RParen, _))) {
                        loop {
                            args.push(self.expr(0)?);
                            if matches!(self.toks.get(self.i), Some((Tok::Comma, _))) {
                                self.i += 1;
                            } else {
                                break;
                            }
                        }
                    }
                    self.expect(&Tok::RParen, "')' or ','")?;
                    if args.len() < min || args.len() > max {
                        let want = if min == max {
                            format!("{min}")
                        } else if max == usize::MAX {
                            format!("at least {min}")
                        } else {
                            format!("{min} to {max}")
                        };
                        return err(
                            pos,
                            format!("{fname}() takes {want} argument(s), got {}", args.len()),
                        );
                    }
                    check_arguments(&fname, &mut args, pos)?;
                    Expr::Call(fname, args)
                } else if matches!(name.as_str(), "and" | "or" | "div" | "mod") {
                    return err(pos, format!("unexpected operator '{name}'"));
                } else {
                    Expr::Column(name)
                }
            }
            Tok::RParen => return err(pos, "unexpected ')'"),
            Tok::LBracket => return err(pos, "unexpected '['"),
            Tok::RBracket => return err(pos, "unexpected ']'"),
            Tok::Comma => return err(pos, "unexpected ','"),
            Tok::Op(_) | Tok::Minus => return err(pos, "unexpected operator"),
        })
    }
}

/// Functions whose arguments name questions rather than pass values.
fn check_arguments(fname: &str, args: &mut [Expr], pos: usize) -> Result<(), SyntaxError> {
    match fname {
        // indexed-repeat(${q}, ${repeat1}, n1 [, ${repeat2}, n2 [, ${repeat3}, n3]])
        "indexed-repeat" => {
            if args.len().is_multiple_of(2) {
                return err(
                    pos,
                    "indexed-repeat() takes a question, then pairs of a repeat and an index",
                );
            }
            for (i, a) in args.iter().enumerate() {
                if (i == 0 || i % 2 == 1) && !matches!(a, Expr::Ref(_)) {
                    let what = if i == 0 { "a question" } else { "a repeat" };
                    return err(
                        pos,
                        format!(
                            "indexed-repeat() argument {} must be {what} as ${{name}}",
                            i + 1
                        ),
                    );
                }
            }
        }
        // jr:choice-name(value, '${question}'): the question is named inside a string.
        "choice-name" => {
            let named = match &args[1] {
                Expr::Str(s) => s
                    .trim()
                    .strip_prefix("${")
                    .and_then(|r| r.strip_suffix('}'))
                    .map(str::trim)
                    .filter(|n| !n.is_empty() && n.chars().all(is_name_char))
                    .map(str::to_string),
                Expr::Ref(n) => Some(n.clone()),
                _ => None,
            };
            match named {
                Some(n) => args[1] = Expr::Ref(n),
                None => {
                    return err(
                        pos,
                        "jr:choice-name() needs the select question as its second argument, written '${name}'",
                    );
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Parse an expression. Errors carry the 1-based character position.
pub fn parse(src: &str) -> Result<Expr, SyntaxError> {
    let toks = tokenize(src)?;
    let end = src.chars().count() + 1;
    if toks.is_empty() {
        return err(1, "empty expression");
    }
    let mut p = Parser { toks, i: 0, end };
    let e = p.expr(0)?;
    if p.i < p.toks.len() {
        return err(p.pos(), "unexpected token after the end of the expression");
    }
    Ok(e)
}
