//! Reading Python the way doctor needs it: the top-level modules a file imports, the distributions
//! a requirements file names, and which imports the standard library or a dependency already covers.

/// `sys.stdlib_module_names` (CPython 3.11, a superset of what later versions keep), sorted.
const STANDARD_LIBRARY: &[&str] = &[
    "__future__",
    "_thread",
    "abc",
    "aifc",
    "antigravity",
    "argparse",
    "array",
    "ast",
    "asynchat",
    "asyncio",
    "asyncore",
    "atexit",
    "audioop",
    "base64",
    "bdb",
    "binascii",
    "bisect",
    "builtins",
    "bz2",
    "cProfile",
    "calendar",
    "cgi",
    "cgitb",
    "chunk",
    "cmath",
    "cmd",
    "code",
    "codecs",
    "codeop",
    "collections",
    "colorsys",
    "compileall",
    "concurrent",
    "configparser",
    "contextlib",
    "contextvars",
    "copy",
    "copyreg",
    "crypt",
    "csv",
    "ctypes",
    "curses",
    "dataclasses",
    "datetime",
    "dbm",
    "decimal",
    "difflib",
    "dis",
    "distutils",
    "doctest",
    "email",
    "encodings",
    "ensurepip",
    "enum",
    "errno",
    "faulthandler",
    "fcntl",
    "filecmp",
    "fileinput",
    "fnmatch",
    "fractions",
    "ftplib",
    "functools",
    "gc",
    "genericpath",
    "getopt",
    "getpass",
    "gettext",
    "glob",
    "graphlib",
    "grp",
    "gzip",
    "hashlib",
    "heapq",
    "hmac",
    "html",
    "http",
    "idlelib",
    "imaplib",
    "imghdr",
    "imp",
    "importlib",
    "inspect",
    "io",
    "ipaddress",
    "itertools",
    "json",
    "keyword",
    "lib2to3",
    "linecache",
    "locale",
    "logging",
    "lzma",
    "mailbox",
    "mailcap",
    "marshal",
    "math",
    "mimetypes",
    "mmap",
    "modulefinder",
    "msilib",
    "msvcrt",
    "multiprocessing",
    "netrc",
    "nis",
    "nntplib",
    "nt",
    "ntpath",
    "nturl2path",
    "numbers",
    "opcode",
    "operator",
    "optparse",
    "os",
    "ossaudiodev",
    "pathlib",
    "pdb",
    "pickle",
    "pickletools",
    "pipes",
    "pkgutil",
    "platform",
    "plistlib",
    "poplib",
    "posix",
    "posixpath",
    "pprint",
    "profile",
    "pstats",
    "pty",
    "pwd",
    "py_compile",
    "pyclbr",
    "pydoc",
    "pydoc_data",
    "pyexpat",
    "queue",
    "quopri",
    "random",
    "re",
    "readline",
    "reprlib",
    "resource",
    "rlcompleter",
    "runpy",
    "sched",
    "secrets",
    "select",
    "selectors",
    "shelve",
    "shlex",
    "shutil",
    "signal",
    "site",
    "smtpd",
    "smtplib",
    "sndhdr",
    "socket",
    "socketserver",
    "spwd",
    "sqlite3",
    "sre_compile",
    "sre_constants",
    "sre_parse",
    "ssl",
    "stat",
    "statistics",
    "string",
    "stringprep",
    "struct",
    "subprocess",
    "sunau",
    "symtable",
    "sys",
    "sysconfig",
    "syslog",
    "tabnanny",
    "tarfile",
    "telnetlib",
    "tempfile",
    "termios",
    "textwrap",
    "this",
    "threading",
    "time",
    "timeit",
    "tkinter",
    "token",
    "tokenize",
    "tomllib",
    "trace",
    "traceback",
    "tracemalloc",
    "tty",
    "turtle",
    "turtledemo",
    "types",
    "typing",
    "unicodedata",
    "unittest",
    "urllib",
    "uu",
    "uuid",
    "venv",
    "warnings",
    "wave",
    "weakref",
    "webbrowser",
    "winreg",
    "winsound",
    "wsgiref",
    "xdrlib",
    "xml",
    "xmlrpc",
    "zipapp",
    "zipfile",
    "zipimport",
    "zlib",
    "zoneinfo",
];

/// Import names whose distribution is named differently on PyPI.
const DISTRIBUTIONS: &[(&str, &str)] = &[
    ("yaml", "pyyaml"),
    ("jwt", "pyjwt"),
    ("dotenv", "python-dotenv"),
    ("multipart", "python-multipart"),
    ("github", "pygithub"),
    ("dateutil", "python-dateutil"),
    ("PIL", "pillow"),
    ("bs4", "beautifulsoup4"),
    ("attr", "attrs"),
    ("jose", "python-jose"),
    ("psycopg2", "psycopg2-binary"),
    ("OpenSSL", "pyopenssl"),
    ("sklearn", "scikit-learn"),
];

/// Modules that arrive with another distribution (`starlette` with `fastapi`, say).
const PROVIDED_BY: &[(&str, &[&str])] = &[
    ("starlette", &["fastapi"]),
    ("pydantic", &["fastapi", "pydantic-settings"]),
    ("pydantic_core", &["pydantic", "fastapi"]),
    ("typing_extensions", &["pydantic", "fastapi"]),
    ("anyio", &["httpx", "fastapi", "starlette"]),
    ("httpcore", &["httpx"]),
    ("h11", &["httpx", "uvicorn"]),
    ("psycopg_pool", &["psycopg-pool"]),
    ("psycopg_binary", &["psycopg"]),
];

/// One `import` in a file: the top-level module and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub module: String,
    pub line: u64,
}

/// Absolute imports of a Python source (relative `from . import` ones are local by definition).
pub fn imports(source: &str) -> Vec<Import> {
    let mut found = Vec::new();
    let mut in_string: Option<&str> = None;
    for (index, raw) in source.lines().enumerate() {
        let line = raw.trim();
        if let Some(quote) = in_string {
            if line.contains(quote) {
                in_string = None;
            }
            continue;
        }
        for quote in ["\"\"\"", "'''"] {
            if line.matches(quote).count() % 2 == 1 {
                in_string = Some(quote);
            }
        }
        if in_string.is_some() {
            continue;
        }
        let line = line.split('#').next().unwrap_or_default();
        let modules: Vec<&str> = if let Some(rest) = line.strip_prefix("import ") {
            rest.split(',')
                .filter_map(|part| part.split_whitespace().next())
                .collect()
        } else if let Some(rest) = line.strip_prefix("from ") {
            rest.split_whitespace().next().into_iter().collect()
        } else {
            Vec::new()
        };
        for module in modules {
            let top = module.split('.').next().unwrap_or_default();
            if !top.is_empty()
                && !module.starts_with('.')
                && top.chars().all(|c| c.is_alphanumeric() || c == '_')
            {
                found.push(Import {
                    module: top.to_string(),
                    line: index as u64 + 1,
                });
            }
        }
    }
    found
}

pub fn is_standard_library(module: &str) -> bool {
    module.starts_with('_') || STANDARD_LIBRARY.binary_search(&module).is_ok()
}

/// Normalised distribution names a requirements file lists, and the `-r` files it includes.
pub fn requirements(text: &str) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut includes = Vec::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or_default().trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(included) = line
            .strip_prefix("-r ")
            .or_else(|| line.strip_prefix("--requirement "))
        {
            includes.push(included.trim().to_string());
            continue;
        }
        if line.starts_with('-') {
            continue;
        }
        let end = line
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(line.len());
        if end > 0 {
            names.push(normalise(&line[..end]));
        }
    }
    (names, includes)
}

/// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
pub fn normalise(name: &str) -> String {
    let mut normalised = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normalised.ends_with('-') {
                normalised.push('-');
            }
        } else {
            normalised.push(c.to_ascii_lowercase());
        }
    }
    normalised
}

/// Whether the listed distributions provide `module`.
pub fn is_provided(module: &str, listed: &[String]) -> bool {
    let direct = DISTRIBUTIONS
        .iter()
        .find(|(import, _)| *import == module)
        .map_or_else(
            || normalise(module),
            |(_, distribution)| distribution.to_string(),
        );
    let has = |name: &str| listed.iter().any(|listed| *listed == name);
    if has(&direct) || has(&format!("{direct}-binary")) {
        return true;
    }
    PROVIDED_BY
        .iter()
        .filter(|(import, _)| *import == module)
        .any(|(_, providers)| providers.iter().any(|provider| has(provider)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_read_outside_docstrings() {
        let source = "\"\"\"Docs.\n\nimport nothing\n\"\"\"\nimport os, httpx as h\nfrom fastapi.responses import JSONResponse\nfrom . import local\n";
        let modules: Vec<String> = imports(source)
            .into_iter()
            .map(|import| import.module)
            .collect();
        assert_eq!(modules, vec!["os", "httpx", "fastapi"]);
    }

    #[test]
    fn requirements_are_normalised_and_include_files() {
        let (names, includes) =
            requirements("FastAPI>=0.115\npsycopg[binary]==3.2 # db\n-r base.txt\nPyYAML\n");
        assert_eq!(names, vec!["fastapi", "psycopg", "pyyaml"]);
        assert_eq!(includes, vec!["base.txt"]);
        assert!(is_provided("yaml", &names));
        assert!(is_provided("starlette", &names));
        assert!(!is_provided("openai", &names));
        assert!(is_standard_library("tomllib"));
    }
}
