//! XPath 1.0 tokens, with the Recommendation's disambiguation rules (section 3.7).
//!
//! Whether `*` multiplies and whether `div`, `and`… are operators depends on the token
//! before; whether a name is a function, node type or axis depends on what follows it. Both
//! are decided here so that the parser sees unambiguous tokens.

use super::ast::Axis;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    /// `*` as a name test.
    Star,
    /// `prefix:*`
    NsStar(String),
    /// A QName used as a name test.
    Name(Option<String>, String),
    /// `comment`, `text`, `processing-instruction`, `node` before `(`.
    NodeType(String),
    Function(Option<String>, String),
    Axis(Axis),
    And,
    Or,
    Mod,
    Div,
    Mul,
    Slash,
    SlashSlash,
    Pipe,
    Plus,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Literal(String),
    Number(f64),
    Var(Option<String>, String),
}

impl Tok {
    fn is_operator(&self) -> bool {
        matches!(
            self,
            Tok::And
                | Tok::Or
                | Tok::Mod
                | Tok::Div
                | Tok::Mul
                | Tok::Slash
                | Tok::SlashSlash
                | Tok::Pipe
                | Tok::Plus
                | Tok::Minus
                | Tok::Eq
                | Tok::Ne
                | Tok::Lt
                | Tok::Le
                | Tok::Gt
                | Tok::Ge
        )
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    /// Character position (0-based) where the token starts.
    pub(crate) pos: usize,
}

pub(crate) struct LexError {
    pub(crate) position: usize,
    pub(crate) message: String,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && (c.is_alphabetic() || c > '\u{2FF}'))
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == '-' || c == '.' || c == '\u{B7}' || (!c.is_ascii() && c.is_alphanumeric())
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub(crate) fn tokenize(expr: &str) -> Result<Vec<Token>, LexError> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let err = |position: usize, message: String| LexError { position, message };
    while i < chars.len() {
        let c = chars[i];
        if is_space(c) {
            i += 1;
            continue;
        }
        let start = i;
        // Section 3.7: an operator reading applies when there is a preceding token that is
        // not `@`, `::`, `(`, `[`, `,` or an operator.
        let operator_context = out.last().is_some_and(|t| {
            !matches!(t.tok, Tok::At | Tok::ColonColon | Tok::LParen | Tok::LBracket | Tok::Comma) && !t.tok.is_operator()
        });
        let next = chars.get(i + 1).copied();
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '[' => {
                i += 1;
                Tok::LBracket
            }
            ']' => {
                i += 1;
                Tok::RBracket
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '@' => {
                i += 1;
                Tok::At
            }
            '|' => {
                i += 1;
                Tok::Pipe
            }
            '+' => {
                i += 1;
                Tok::Plus
            }
            '-' => {
                i += 1;
                Tok::Minus
            }
            '=' => {
                i += 1;
                Tok::Eq
            }
            '!' if next == Some('=') => {
                i += 2;
                Tok::Ne
            }
            '<' if next == Some('=') => {
                i += 2;
                Tok::Le
            }
            '<' => {
                i += 1;
                Tok::Lt
            }
            '>' if next == Some('=') => {
                i += 2;
                Tok::Ge
            }
            '>' => {
                i += 1;
                Tok::Gt
            }
            '/' if next == Some('/') => {
                i += 2;
                Tok::SlashSlash
            }
            '/' => {
                i += 1;
                Tok::Slash
            }
            ':' if next == Some(':') => {
                i += 2;
                Tok::ColonColon
            }
            '*' => {
                i += 1;
                if operator_context {
                    Tok::Mul
                } else {
                    Tok::Star
                }
            }
            '.' if next == Some('.') => {
                i += 2;
                Tok::DotDot
            }
            '.' if !next.is_some_and(|d| d.is_ascii_digit()) => {
                i += 1;
                Tok::Dot
            }
            '0'..='9' | '.' => {
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                if i < chars.len() && chars[i] == '.' {
                    i += 1;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let text: String = chars[start..i].iter().collect();
                let text = if text.starts_with('.') { format!("0{text}") } else { text };
                Tok::Number(text.parse::<f64>().map_err(|_| err(start, format!("bad number '{text}'")))?)
            }
            '"' | '\'' => {
                let close = chars[i + 1..].iter().position(|&d| d == c).ok_or_else(|| err(start, "unterminated string literal".into()))?;
                let text: String = chars[i + 1..i + 1 + close].iter().collect();
                i += close + 2;
                Tok::Literal(text)
            }
            '$' => {
                i += 1;
                let (prefix, local, star) = read_qname(&chars, &mut i).ok_or_else(|| err(start, "'$' must be followed by a variable name".into()))?;
                if star {
                    return Err(err(start, "a variable name cannot be '*'".into()));
                }
                Tok::Var(prefix, local)
            }
            c if is_name_start(c) => {
                let (prefix, local, star) = match read_qname(&chars, &mut i) {
                    Some(q) => q,
                    None => return Err(err(start, "bad name".into())),
                };
                if operator_context {
                    if prefix.is_some() || star {
                        return Err(err(start, format!("expected an operator, found '{}'", chars[start..i].iter().collect::<String>())));
                    }
                    match local.as_str() {
                        "and" => Tok::And,
                        "or" => Tok::Or,
                        "mod" => Tok::Mod,
                        "div" => Tok::Div,
                        other => return Err(err(start, format!("expected an operator, found '{other}'"))),
                    }
                } else if star {
                    Tok::NsStar(prefix.unwrap_or_default())
                } else {
                    let mut j = i;
                    while j < chars.len() && is_space(chars[j]) {
                        j += 1;
                    }
                    let follows = |s: &str| s.chars().enumerate().all(|(k, ch)| chars.get(j + k) == Some(&ch));
                    if follows("(") {
                        if prefix.is_none() && matches!(local.as_str(), "comment" | "text" | "processing-instruction" | "node") {
                            Tok::NodeType(local)
                        } else {
                            Tok::Function(prefix, local)
                        }
                    } else if follows("::") {
                        if prefix.is_some() {
                            return Err(err(start, "an axis name cannot have a prefix".into()));
                        }
                        match Axis::from_name(&local) {
                            Some(a) => Tok::Axis(a),
                            None => return Err(err(start, format!("unknown axis '{local}'"))),
                        }
                    } else {
                        Tok::Name(prefix, local)
                    }
                }
            }
            other => return Err(err(start, format!("unexpected character '{other}'"))),
        };
        out.push(Token { tok, pos: start });
    }
    Ok(out)
}

/// Reads `NCName`, `NCName:NCName` or `NCName:*` at `i`; the bool says `prefix:*`.
fn read_qname(chars: &[char], i: &mut usize) -> Option<(Option<String>, String, bool)> {
    let first = read_ncname(chars, i)?;
    if chars.get(*i) == Some(&':') && chars.get(*i + 1) != Some(&':') {
        let save = *i;
        *i += 1;
        if chars.get(*i) == Some(&'*') {
            *i += 1;
            return Some((Some(first), String::new(), true));
        }
        match read_ncname(chars, i) {
            Some(local) => return Some((Some(first), local, false)),
            None => {
                *i = save;
                return None;
            }
        }
    }
    Some((None, first, false))
}

fn read_ncname(chars: &[char], i: &mut usize) -> Option<String> {
    let start = *i;
    if !chars.get(*i).is_some_and(|&c| is_name_start(c)) {
        return None;
    }
    *i += 1;
    while *i < chars.len() && is_name_char(chars[*i]) {
        *i += 1;
    }
    Some(chars[start..*i].iter().collect())
}
