//! Parsing a migration with sqlparser's PostgreSQL dialect, one statement at a time so each keeps
//! its line. `DO $$ ... $$` blocks are PL/pgSQL, which sqlparser does not parse: their bodies are
//! tokenized and the SQL statements inside (a guarded `REVOKE ... FROM anon, authenticated`, say) are
//! parsed on their own.

use sqlparser::ast::{ObjectName, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// A statement of a migration and the line it starts on.
#[derive(Debug, Clone)]
pub struct LocatedStatement {
    pub statement: Statement,
    pub line: u64,
}

/// Why a migration does not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlError {
    pub message: String,
    pub line: u64,
}

/// Statement kinds that are valid PostgreSQL but that sqlparser reads only in part (for example
/// `COMMENT ON FUNCTION f()`): when one of these does not parse it is left unchecked, not an error.
const PARTLY_SUPPORTED: &[&[&str]] = &[
    &["comment", "on"],
    &["create", "trigger"],
    &["create", "or", "replace", "trigger"],
    &["create", "event", "trigger"],
    &["create", "policy"],
    &["alter", "policy"],
    &["create", "type"],
    &["create", "publication"],
    &["alter", "publication"],
    &["security", "label"],
    &["create", "aggregate"],
    &["alter", "function"],
    &["grant"],
    &["revoke"],
];

/// A parsed migration: its statements, and the lines of statements left unchecked.
#[derive(Debug, Clone, Default)]
pub struct Migration {
    pub statements: Vec<LocatedStatement>,
    pub unchecked: Vec<u64>,
}

/// Parses every statement of `text`, or says where the first one fails.
pub fn parse_migration(text: &str) -> Result<Migration, SqlError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .map_err(|error| SqlError {
            message: error.message,
            line: error.location.line,
        })?;
    let mut migration = Migration::default();
    for chunk in split_statements(tokens) {
        let line = chunk[0].span.start.line;
        if is_keyword(&chunk[0].token, Keyword::DO) {
            migration.statements.extend(do_block_statements(&chunk));
            continue;
        }
        let partly_supported = is_partly_supported(&chunk);
        match parse_one(&dialect, chunk) {
            Ok(statement) => migration
                .statements
                .push(LocatedStatement { statement, line }),
            Err(_) if partly_supported => migration.unchecked.push(line),
            Err(error) => return Err(located(error, line)),
        }
    }
    Ok(migration)
}

fn is_partly_supported(chunk: &[TokenWithSpan]) -> bool {
    let words: Vec<&TokenWithSpan> = chunk
        .iter()
        .filter(|token| !matches!(token.token, Token::Whitespace(_)))
        .take(4)
        .collect();
    PARTLY_SUPPORTED.iter().any(|prefix| {
        prefix.len() <= words.len()
            && prefix
                .iter()
                .zip(&words)
                .all(|(word, token)| is_word(&token.token, word))
    })
}

/// The table a statement names, as `schema.table` in lower case (`public` when unqualified).
pub fn table_key(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|part| part.as_ident())
        .map(|ident| {
            if ident.quote_style.is_some() {
                ident.value.clone()
            } else {
                ident.value.to_lowercase()
            }
        })
        .collect();
    match parts.as_slice() {
        [table] => format!("public.{table}"),
        [.., schema, table] => format!("{schema}.{table}"),
        [] => String::new(),
    }
}

/// Splits on top-level semicolons, dropping whitespace and comments; each chunk starts at a real token.
fn split_statements(tokens: Vec<TokenWithSpan>) -> Vec<Vec<TokenWithSpan>> {
    let mut chunks = Vec::new();
    let mut current: Vec<TokenWithSpan> = Vec::new();
    for token in tokens {
        match token.token {
            Token::SemiColon | Token::EOF => {
                if !current.is_empty() {
                    chunks.push(std::mem::take(&mut current));
                }
            }
            Token::Whitespace(_) if current.is_empty() => {}
            _ => current.push(token),
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn parse_one(
    dialect: &PostgreSqlDialect,
    tokens: Vec<TokenWithSpan>,
) -> Result<Statement, ParserError> {
    let mut parser = Parser::new(dialect).with_tokens_with_locations(tokens);
    let statement = parser.parse_statement()?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(ParserError::ParserError(format!(
            "unexpected `{}` after the statement{}",
            next.token, next.span.start
        )));
    }
    Ok(statement)
}

/// SQL statements inside a `DO` block's body. PL/pgSQL around them (IF ... THEN, loops) is not
/// SQL, so two shapes are read:
/// - a statement written out, from its REVOKE, GRANT, ALTER or CREATE keyword to its semicolon;
/// - dynamic SQL, `execute format('revoke all on table public.%I from %I', table_name, role)`, where
///   each argument is a `foreach NAME in array array['a', 'b']` loop variable: every combination of
///   the loop values is substituted and parsed.
///
/// A piece that still does not parse is skipped: the body as a whole is not SQL.
fn do_block_statements(chunk: &[TokenWithSpan]) -> Vec<LocatedStatement> {
    let dialect = PostgreSqlDialect {};
    let Some((body, body_line)) = chunk.iter().find_map(|token| match &token.token {
        Token::DollarQuotedString(quoted) => Some((quoted.value.as_str(), token.span.start.line)),
        Token::SingleQuotedString(text) => Some((text.as_str(), token.span.start.line)),
        _ => None,
    }) else {
        return Vec::new();
    };
    let Ok(tokens) = Tokenizer::new(&dialect, body).tokenize_with_location() else {
        return Vec::new();
    };
    let line_in_file = |token: &TokenWithSpan| body_line + token.span.start.line.saturating_sub(1);
    let mut statements = Vec::new();
    for piece in split_statements(tokens.clone()) {
        let Some(start) = piece.iter().position(|token| starts_sql(&token.token)) else {
            continue;
        };
        if let Ok(statement) = parse_one(&dialect, piece[start..].to_vec()) {
            statements.push(LocatedStatement {
                statement,
                line: line_in_file(&piece[start]),
            });
        }
    }
    let significant: Vec<&TokenWithSpan> = tokens
        .iter()
        .filter(|token| !matches!(token.token, Token::Whitespace(_)))
        .collect();
    let loops = loop_values(&significant);
    for (index, token) in significant.iter().enumerate() {
        let Token::SingleQuotedString(text) = &token.token else {
            continue;
        };
        let lowered = text.trim_start().to_lowercase();
        if !["revoke ", "grant ", "alter ", "create "]
            .iter()
            .any(|keyword| lowered.starts_with(keyword))
        {
            continue;
        }
        for sql in expand_format(text, &format_arguments(&significant[index + 1..]), &loops) {
            if let Ok(mut parsed) = Parser::parse_sql(&dialect, &sql) {
                if parsed.len() == 1 {
                    let statement = parsed.remove(0);
                    statements.push(LocatedStatement {
                        statement,
                        line: line_in_file(token),
                    });
                }
            }
        }
    }
    statements
}

fn starts_sql(token: &Token) -> bool {
    [
        Keyword::REVOKE,
        Keyword::GRANT,
        Keyword::ALTER,
        Keyword::CREATE,
    ]
    .iter()
    .any(|keyword| is_keyword(token, *keyword))
}

/// `foreach NAME in array array['a', 'b']`: NAME takes the values a and b.
fn loop_values(tokens: &[&TokenWithSpan]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut loops = std::collections::BTreeMap::new();
    for window in tokens.windows(6) {
        let [foreach, name, in_keyword, array, array_again, open] = window else {
            continue;
        };
        let shape = is_word(&foreach.token, "foreach")
            && is_word(&in_keyword.token, "in")
            && is_word(&array.token, "array")
            && is_word(&array_again.token, "array")
            && open.token == Token::LBracket;
        let Token::Word(name) = &name.token else {
            continue;
        };
        if !shape {
            continue;
        }
        let start = tokens
            .iter()
            .position(|token| std::ptr::eq(*token, *open))
            .map_or(0, |index| index + 1);
        let mut values = Vec::new();
        for token in &tokens[start..] {
            match &token.token {
                Token::SingleQuotedString(value) => values.push(value.clone()),
                Token::Comma => {}
                _ => break,
            }
        }
        loops.insert(name.value.to_lowercase(), values);
    }
    loops
}

/// The identifiers after a format string: `, table_name, client_role)`.
fn format_arguments(after: &[&TokenWithSpan]) -> Vec<String> {
    let mut arguments = Vec::new();
    let mut tokens = after.iter();
    while let Some(token) = tokens.next() {
        match &token.token {
            Token::Comma => match tokens.next().map(|token| &token.token) {
                Some(Token::Word(word)) => arguments.push(word.value.to_lowercase()),
                _ => break,
            },
            _ => break,
        }
    }
    arguments
}

/// Every SQL text the format string produces over the loop values of its arguments; nothing when a
/// placeholder's argument is not a known loop variable.
fn expand_format(
    format: &str,
    arguments: &[String],
    loops: &std::collections::BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut texts = vec![String::new()];
    let mut argument = arguments.iter();
    let mut characters = format.chars().peekable();
    while let Some(character) = characters.next() {
        if character != '%' {
            texts.iter_mut().for_each(|text| text.push(character));
            continue;
        }
        match characters.next() {
            Some('%') => texts.iter_mut().for_each(|text| text.push('%')),
            Some('I' | 's' | 'L') => {
                let Some(values) = argument.next().and_then(|name| loops.get(name)) else {
                    return Vec::new();
                };
                texts = texts
                    .iter()
                    .flat_map(|text| values.iter().map(move |value| format!("{text}{value}")))
                    .collect();
            }
            _ => return Vec::new(),
        }
    }
    texts
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(found) if found.quote_style.is_none() && found.value.eq_ignore_ascii_case(word))
}

fn is_keyword(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(word) if word.keyword == keyword)
}

/// Uses the line sqlparser names in its message ("... at Line: 3, Column: 5") when there is one.
fn located(error: ParserError, fallback_line: u64) -> SqlError {
    let message = error.to_string();
    let line = message
        .rsplit_once("at Line: ")
        .and_then(|(_, rest)| rest.split(',').next())
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or(fallback_line);
    let message = match message.rsplit_once(" at Line: ") {
        Some((before, _)) => before.to_string(),
        None => message,
    };
    SqlError {
        message: message.trim_start_matches("sql parser error: ").to_string(),
        line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_keep_their_lines_and_do_blocks_yield_their_revokes() {
        let sql = "create table public.jobs (id uuid primary key, status text not null);\n\
                   alter table public.jobs enable row level security;\n\
                   do $$\nbegin\n  if exists (select 1 from pg_roles where rolname = 'anon') then\n    \
                   revoke all on table public.jobs from anon, authenticated;\n  end if;\nend\n$$;\n";
        let statements = parse_migration(sql).unwrap().statements;
        assert_eq!(statements.len(), 3);
        assert!(matches!(statements[0].statement, Statement::CreateTable(_)));
        assert_eq!(statements[1].line, 2);
        assert!(matches!(statements[2].statement, Statement::Revoke(_)));
        assert_eq!(statements[2].line, 6);
    }

    #[test]
    fn dynamic_revokes_in_loops_are_expanded() {
        let sql = "do $$\ndeclare r text; t text;\nbegin\n  foreach r in array array['anon', 'authenticated'] loop\n    \
                   foreach t in array array['jobs', 'notes'] loop\n      \
                   execute pg_catalog.format('revoke all on table public.%I from %I', t, r);\n    end loop;\n  end loop;\nend\n$$;\n";
        let statements = parse_migration(sql).unwrap().statements;
        let texts: Vec<String> = statements
            .iter()
            .map(|located| located.statement.to_string())
            .collect();
        assert_eq!(texts.len(), 4, "{texts:?}");
        assert!(
            texts.contains(&"REVOKE ALL ON public.notes FROM authenticated".to_string()),
            "{texts:?}"
        );
        assert_eq!(statements[0].line, 6);
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let error = parse_migration("select 1;\n\ncreate tabel x (id int);\n").unwrap_err();
        assert_eq!(error.line, 3);
    }
}
