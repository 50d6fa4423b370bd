//! Command lines: words with `'...'`, `"..."` and `\` quoting, `;` and `&`
//! separators (`&` runs the command before it in the background), and a
//! `> FILE` / `>> FILE` redirection of output.

use core::fmt;

/// One command of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub argv: Vec<String>,
    pub background: bool,
    pub redirect: Option<Redirect>,
}

/// Where the command's output goes instead of the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub path: String,
    pub append: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    UnclosedQuote(char),
    /// `>` without a file name, or a second `>`.
    BadRedirect,
    /// A separator with no command before it (`; ls`, `& &`).
    EmptyCommand,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::UnclosedQuote(q) => write!(f, "unclosed {q}"),
            ParseError::BadRedirect => f.write_str("`>` needs one file name"),
            ParseError::EmptyCommand => f.write_str("empty command before `;` or `&`"),
        }
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Semi,
    Amp,
    Out { append: bool },
}

fn tokenize(line: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    let mut word: Option<String> = None;
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                tokens.extend(word.take().map(Token::Word));
            }
            '#' if word.is_none() => break,
            ';' | '&' | '>' => {
                tokens.extend(word.take().map(Token::Word));
                tokens.push(match c {
                    ';' => Token::Semi,
                    '&' => Token::Amp,
                    _ => Token::Out {
                        append: chars.next_if_eq(&'>').is_some(),
                    },
                });
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(ParseError::UnclosedQuote('\'')),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(ParseError::UnclosedQuote('"')),
                        },
                        Some(c) => w.push(c),
                        None => return Err(ParseError::UnclosedQuote('"')),
                    }
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(String::new);
                if let Some(c) = chars.next() {
                    w.push(c);
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    tokens.extend(word.take().map(Token::Word));
    Ok(tokens)
}

/// Splits a line into its commands; an empty or comment-only line has none.
pub fn parse_line(line: &str) -> Result<Vec<Command>, ParseError> {
    let mut commands = Vec::new();
    let mut current = Command {
        argv: Vec::new(),
        background: false,
        redirect: None,
    };
    let mut tokens = tokenize(line)?.into_iter();
    let finish = |current: &mut Command, background: bool, commands: &mut Vec<Command>| {
        if current.argv.is_empty() {
            if background || current.redirect.is_some() {
                return Err(ParseError::EmptyCommand);
            }
            return Ok(());
        }
        current.background = background;
        commands.push(core::mem::replace(
            current,
            Command {
                argv: Vec::new(),
                background: false,
                redirect: None,
            },
        ));
        Ok(())
    };
    while let Some(t) = tokens.next() {
        match t {
            Token::Word(w) => current.argv.push(w),
            Token::Semi => {
                if current.argv.is_empty() {
                    return Err(ParseError::EmptyCommand);
                }
                finish(&mut current, false, &mut commands)?;
            }
            Token::Amp => finish(&mut current, true, &mut commands)?,
            Token::Out { append } => {
                let Some(Token::Word(path)) = tokens.next() else {
                    return Err(ParseError::BadRedirect);
                };
                if current.redirect.is_some() {
                    return Err(ParseError::BadRedirect);
                }
                current.redirect = Some(Redirect { path, append });
            }
        }
    }
    finish(&mut current, false, &mut commands)?;
    Ok(commands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argvs(line: &str) -> Vec<(Vec<String>, bool)> {
        parse_line(line)
            .unwrap()
            .into_iter()
            .map(|c| (c.argv, c.background))
            .collect()
    }

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(argvs("hello a  b"), [(v(&["hello", "a", "b"]), false)]);
        assert_eq!(
            argvs(r#"echo 'a b' "c \"d\"" e\ f x"y"z"#),
            [(v(&["echo", "a b", "c \"d\"", "e f", "xyz"]), false)]
        );
        assert_eq!(argvs("echo ''"), [(v(&["echo", ""]), false)]);
        assert!(argvs("   ").is_empty());
        assert!(argvs("# a comment").is_empty());
        assert_eq!(argvs("echo a#b # c"), [(v(&["echo", "a#b"]), false)]);
    }

    #[test]
    fn background_and_sequences() {
        assert_eq!(
            argvs("cpu-burn 5 & cpu-burn 6 &"),
            [(v(&["cpu-burn", "5"]), true), (v(&["cpu-burn", "6"]), true)]
        );
        assert_eq!(
            argvs("a; b&c"),
            [(v(&["a"]), false), (v(&["b"]), true), (v(&["c"]), false)]
        );
        assert_eq!(parse_line("; a"), Err(ParseError::EmptyCommand));
        assert_eq!(parse_line("& a"), Err(ParseError::EmptyCommand));
    }

    #[test]
    fn redirects() {
        let c = parse_line("echo hi > /tmp/x").unwrap();
        assert_eq!(c[0].argv, v(&["echo", "hi"]));
        assert_eq!(
            c[0].redirect,
            Some(Redirect {
                path: "/tmp/x".into(),
                append: false
            })
        );
        let c = parse_line("echo hi>>/tmp/x").unwrap();
        assert!(c[0].redirect.as_ref().unwrap().append);
        assert_eq!(parse_line("echo >"), Err(ParseError::BadRedirect));
        assert_eq!(parse_line("echo > a > b"), Err(ParseError::BadRedirect));
        assert_eq!(parse_line("> a"), Err(ParseError::EmptyCommand));
    }

    #[test]
    fn unclosed_quotes() {
        assert_eq!(parse_line("echo 'a"), Err(ParseError::UnclosedQuote('\'')));
        assert_eq!(parse_line("echo \"a"), Err(ParseError::UnclosedQuote('"')));
    }
}
