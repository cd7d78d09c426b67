#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""check-docs.py - the public headers carry a kernel-doc comment on every function, struct,
union, enum and typedef: "/** name() - summary", "@arg:" for every parameter and no other,
"Return:" on a non-void function; "/** struct Name - summary" with "@field:" for every field
(enumerators for an enum). A documented function-like macro is checked the same way.

    scripts/check-docs.py [HEADER...]    (default: include/netbe/*.h)

Names FILE:LINE and the symbol of every problem; exit 1 if there is one outside ALLOWED.
Python 3 standard library only: a small C scanner, enough for declarations in headers.
"""
import os
import re
import sys

# Headers whose problems are listed but do not fail the check, each with its reason.
ALLOWED = {}

IDENT = re.compile(r"[A-Za-z_]\w*")
# Words that make up a type without naming a parameter or field.
TYPE_WORDS = {
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool",
    "bool", "const", "volatile", "restrict", "__restrict", "static", "inline", "extern",
}
BASE_TYPES = TYPE_WORDS - {"const", "volatile", "restrict", "__restrict", "static", "inline",
                           "extern"}
# Markers before or after a declaration that are not part of its type.
DECORATION = re.compile(r"\b(NETBE_API|__attribute__|G_GNUC_\w+|G_DEPRECATED\w*|G_BEGIN_DECLS|"
                        r"G_END_DECLS)\b")


def undecorate(text):
    """text with its markers and their (balanced) arguments turned into spaces."""
    out = list(text)
    for m in DECORATION.finditer(text):
        end = m.end()
        rest = text[end:]
        if rest.lstrip().startswith("("):
            end = matching(text, end + len(rest) - len(rest.lstrip()))
            end += 1
        for k in range(m.start(), end):
            if out[k] != "\n":
                out[k] = " "
    return "".join(out)


class Comment:
    """A comment, and whether it is a kernel-doc one (opened by exactly "/**")."""

    def __init__(self, text, line):
        self.text, self.line = text, line
        self.kdoc = text.startswith("/**") and not text.startswith("/***") and text != "/**/"


class Statement:
    """One top-level declaration: code without comments, and the line of each character."""

    def __init__(self):
        self.chars, self.lines = [], []

    def text(self):
        return "".join(self.chars)

    def line_at(self, index):
        return self.lines[min(index, len(self.lines) - 1)]


def blank_preprocessor(src):
    """Blank out preprocessor lines (keeping newlines) and what #ifdef __cplusplus guards;
    return the new text and the directives as (line, text)."""
    out, directives = [], []
    lines = src.split("\n")
    skip_depth = 0  # > 0 inside an #ifdef __cplusplus block
    i = 0
    while i < len(lines):
        first = i
        text = lines[i]
        if text.lstrip().startswith("#"):
            while text.endswith("\\") and i + 1 < len(lines):
                i += 1
                text = text[:-1] + " " + lines[i]
            directive = text.lstrip()[1:].strip()
            if skip_depth:
                if re.match(r"if", directive):
                    skip_depth += 1
                elif re.match(r"endif", directive):
                    skip_depth -= 1
            elif re.match(r"(ifdef\s+__cplusplus|if\s+defined\s*\(?\s*__cplusplus)", directive):
                skip_depth = 1
            else:
                directives.append((first + 1, directive))
            out.extend([""] * (i - first + 1))
        else:
            out.append("" if skip_depth else text)
        i += 1
    return "\n".join(out), directives


def scan(src):
    """Split a header into comments, preprocessor directives and top-level statements, as
    (kind, line, item) in the order of the file."""
    src, directives = blank_preprocessor(src)
    items = [("directive", line, text) for line, text in directives]
    i, line, n = 0, 1, len(src)
    stmt, depth = None, 0
    while i < n:
        c = src[i]
        if src.startswith("/*", i) or src.startswith("//", i):
            if src[i + 1] == "*":
                close = src.find("*/", i + 2)
                end = n if close < 0 else close + 2
            else:
                close = src.find("\n", i)
                end = n if close < 0 else close
            text = src[i:end]
            comment = Comment(text, line)
            if stmt is None:  # comments inside a declaration are not its doc
                items.append(("comment", comment.line, comment))
            line += text.count("\n")
            i = end
            continue
        if c == "\n":
            line += 1
        if c.isspace():
            if stmt is not None:
                stmt.chars.append(" ")
                stmt.lines.append(line)
            i += 1
            continue
        if stmt is None:
            stmt = Statement()
        if c in "\"'":  # a literal: copy it whole
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            for ch in src[i:j + 1]:
                stmt.chars.append(ch)
                stmt.lines.append(line)
            i = j + 1
            continue
        stmt.chars.append(c)
        stmt.lines.append(line)
        if c in "{(":
            depth += 1
        elif c in "})":
            depth -= 1
        end = depth == 0 and (c == ";" or (c == "}" and is_function_body(stmt.text())))
        if end:
            items.append(("stmt", stmt.lines[0], stmt))
            stmt = None
        i += 1
    items.sort(key=lambda item: item[1])  # stable: a directive is alone on its lines
    return items


def is_function_body(text):
    """True when text ends with the body of a function definition: "...) { ... }"."""
    depth = 0
    for k in range(len(text) - 1, -1, -1):
        if text[k] == "}":
            depth += 1
        elif text[k] == "{":
            depth -= 1
            if depth == 0:
                return text[:k].rstrip().endswith(")")
    return False


def split_top(text, sep):
    """Split text at sep where no bracket is open."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def matching(text, start):
    """Index of the bracket closing the one at text[start]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    depth = 0
    for k in range(start, len(text)):
        if text[k] in pairs:
            depth += 1
        elif text[k] in pairs.values():
            depth -= 1
            if depth == 0:
                return k
    return len(text) - 1


def declarator_name(decl):
    """The name a parameter or field declaration introduces, or None if it has none."""
    decl = undecorate(decl).strip()
    if decl == "...":
        return "..."
    m = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)", decl)  # function pointer: (*name)(...)
    if m:
        return m.group(1)
    decl = re.sub(r"\[[^\]]*\]", "", decl)  # arrays
    decl = re.sub(r":\s*\w+\s*$", "", decl)  # bit fields
    has_type = bool(re.search(r"\b(struct|union|enum)\s+\w+", decl))
    decl = re.sub(r"\b(struct|union|enum)\s+\w+", " ", decl)
    words = IDENT.findall(decl)
    has_type = has_type or any(w in BASE_TYPES for w in words)
    rest = [w for w in words if w not in TYPE_WORDS]
    if len(rest) >= 2 or (len(rest) == 1 and has_type):
        return rest[-1]
    return None


def params_of(plist):
    """Parameter names of a parameter list (without its parentheses); None for a nameless one."""
    parts = split_top(plist, ",")
    if parts == ["void"] or not parts:
        return []
    return [declarator_name(p) for p in parts]


def is_void(rtype):
    rtype = undecorate(rtype)
    words = [w for w in IDENT.findall(rtype) if w not in ("static", "inline", "extern", "const")]
    return words == ["void"] and "*" not in rtype


def fields_of(body):
    """Field names of a struct or union body; members of an anonymous struct or union count
    as the outer's."""
    names = []
    for member in split_top(body, ";"):
        m = re.match(r"^(struct|union)\s*(\w+\s*)?\{", member)
        if m:
            close = matching(member, member.index("{"))
            tail = member[close + 1:].strip()
            if tail:
                names += [declarator_name("int " + d) for d in split_top(tail, ",")]
            else:
                names += fields_of(member[member.index("{") + 1:close])
            continue
        decls = split_top(member, ",")
        first = declarator_name(decls[0])
        names.append(first)
        # "uint64_t a, b, *c": the later declarators share the first one's type
        type_prefix = decls[0][:decls[0].rfind(first)] if first else ""
        type_prefix = re.sub(r"[*\s]+$", "", type_prefix)
        names += [declarator_name(type_prefix + " " + d) for d in decls[1:]]
    return names


def enumerators_of(body):
    return [IDENT.match(e).group(0) for e in split_top(body, ",") if IDENT.match(e)]


class Symbol:
    """What a declaration declares and what its kernel-doc comment must say."""

    def __init__(self, kind, name, line, args=None, void=True, arg_word="parameter"):
        self.kind, self.name, self.line = kind, name, line
        self.args = args  # names its comment documents with @name:, None: not checked
        self.void = void  # no Return: section wanted
        self.arg_word = arg_word
        self.aliases = set()  # the tag and the typedef name of "typedef struct Tag {} Name"

    def title(self):
        return f"{self.name}()" if self.kind == "function" else f"{self.kind} {self.name}"


def classify(stmt):
    """The symbol a statement declares (None for one that needs no comment)."""
    text = undecorate(stmt.text())
    m = re.match(r"\s*typedef\s+(struct|union|enum)\s*(\w+)?\s*\{", text)
    if m:
        return aggregate(stmt, text, m.group(1), m.group(2), typedef=True)
    m = re.match(r"\s*(struct|union|enum)\s*(\w+)?\s*\{", text)
    if m:
        return aggregate(stmt, text, m.group(1), m.group(2), typedef=False)
    m = re.match(r"\s*typedef\b", text)
    if m:
        fp = re.search(r"\(\s*\*\s*(\w+)\s*\)\s*\(", text)
        if fp:
            close = matching(text, fp.end() - 1)
            return Symbol("typedef", fp.group(1), stmt.line_at(fp.start(1)),
                          params_of(text[fp.end():close]), is_void(text[m.end():fp.start()]))
        name = re.search(r"(\w+)\s*;\s*$", text)
        return Symbol("typedef", name.group(1), stmt.line_at(name.start(1)))
    if re.match(r"\s*(struct|union|enum)\s+\w+\s*;", text):
        return None  # a forward declaration
    paren = text.find("(")
    if paren < 0:
        return None  # a variable
    name = re.search(r"(\w+)\s*$", text[:paren])
    if not name:
        return None
    close = matching(text, paren)
    return Symbol("function", name.group(1), stmt.line_at(name.start(1)),
                  params_of(text[paren + 1:close]), is_void(text[:name.start(1)]))


def aggregate(stmt, text, kind, tag, typedef):
    brace = text.index("{")
    close = matching(text, brace)
    body = text[brace + 1:close]
    tail = re.match(r"\s*(\w+)?", text[close + 1:]).group(1)
    name = tag or (tail if typedef else None)
    if not name:
        return None  # an anonymous aggregate at top level: nothing to name
    args = enumerators_of(body) if kind == "enum" else fields_of(body)
    sym = Symbol(kind, name, stmt.line_at(text.index(name) if tag else brace), args,
                 arg_word="enumerator" if kind == "enum" else "field")
    sym.aliases = {tag, tail} - {None}
    return sym


def define_symbol(line, directive):
    """A function-like macro with a kernel-doc comment is checked like a function."""
    m = re.match(r"define\s+(\w+)\(([^)]*)\)", directive)
    if not m:
        return None
    args = [a.strip() for a in m.group(2).split(",") if a.strip()]
    return Symbol("function", m.group(1), line, args, void=True)


class KernelDoc:
    """The parts of a /** ... */ comment."""

    def __init__(self, comment):
        body = comment.text[3:]
        body = body[:-2] if body.endswith("*/") else body
        self.lines = [re.sub(r"^\s*\*? ?", "", ln).rstrip() for ln in body.split("\n")]
        text = [ln for ln in self.lines if ln.strip()]
        self.title = text[0].strip() if text else ""
        self.args, self.dup_args, self.empty_args = [], [], []
        for k, ln in enumerate(self.lines):
            m = re.match(r"^\s*@(\w+|\.\.\.)\s*:(.*)$", ln)
            if not m:
                continue
            if m.group(1) in self.args:
                self.dup_args.append(m.group(1))
            self.args.append(m.group(1))
            following = self.lines[k + 1] if k + 1 < len(self.lines) else ""
            if not m.group(2).strip() and (not following.strip() or following.lstrip()[:1] == "@"):
                self.empty_args.append(m.group(1))
        # "Return: what", or "Return:" with what on the next line
        self.has_return = any(re.match(r"^\s*Return:", ln) and (ln.split(":", 1)[1] + nxt).strip()
                              for ln, nxt in zip(self.lines, self.lines[1:] + [""]))

    def names(self):
        """(kind, name) from the title line, e.g. ("function", "netbe_runtime_new")."""
        m = re.match(r"^(\w+)\(\)\s+-\s+\S", self.title)
        if m:
            return "function", m.group(1)
        m = re.match(r"^(struct|union|enum|typedef)\s+(\w+)\s+-\s+\S", self.title)
        if m:
            return m.group(1), m.group(2)
        return None, None


def check_symbol(sym, comment, problems, where):
    """Append to problems what is wrong with sym's comment."""
    def problem(msg):
        problems.append(f"{where}:{sym.line}: {sym.title()}: {msg}")

    if comment is None or not comment.kdoc:
        hint = " (the comment above it is not opened by /**)" if comment else ""
        problem(f"no kernel-doc comment{hint}")
        return
    doc = KernelDoc(comment)
    kind, name = doc.names()
    names = {sym.name} | sym.aliases
    if kind is None:
        want = f"{sym.name}()" if sym.kind == "function" else f"{sym.kind} {sym.name}"
        want += " - summary"
        problem(f"the comment's first line is '{doc.title}', not '{want}'")
        return
    if name not in names or (kind != sym.kind and not (sym.kind == "typedef" and kind == "struct")):
        problem(f"the comment above it documents {kind} {name}")
        return
    if sym.args is not None:
        for k, arg in enumerate(sym.args):
            if arg is None:
                problem(f"{sym.arg_word} {k + 1} has no name to document")
            elif arg not in doc.args:
                problem(f"@{arg} is not documented")
        for arg in doc.args:
            if arg not in sym.args:
                problem(f"@{arg} is documented but is not a {sym.arg_word}")
        for arg in doc.dup_args:
            problem(f"@{arg} is documented twice")
        for arg in doc.empty_args:
            problem(f"@{arg} has an empty description")
    if sym.kind in ("function", "typedef") and sym.args is not None:
        if not sym.void and not doc.has_return:
            problem("returns a value but has no 'Return:' section")
        if sym.void and doc.has_return:
            problem("returns void but has a 'Return:' section")


def check_header(path, shown):
    problems, symbols = [], 0
    with open(path, encoding="utf-8") as f:
        items = scan(f.read())
    pending = None  # the comment right before the next declaration or directive
    for kind, line, item in items:
        if kind == "comment":
            pending = item
            continue
        sym = define_symbol(line, item) if kind == "directive" else classify(item)
        # a macro needs no comment, but one with a kernel-doc comment must match it
        if sym is not None and (kind == "stmt" or (pending is not None and pending.kdoc)):
            symbols += 1
            check_symbol(sym, pending, problems, shown)
        pending = None
    return problems, symbols


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if argv:
        headers = argv
    else:
        inc = os.path.join(root, "include", "netbe")
        headers = sorted(os.path.join(inc, h) for h in os.listdir(inc) if h.endswith(".h"))
    failed, total, allowed, notes = 0, 0, [], []
    for path in headers:
        shown = os.path.relpath(os.path.abspath(path), root)
        shown = path if shown.startswith("..") else shown
        problems, symbols = check_header(path, shown)
        total += symbols
        reason = ALLOWED.get(shown) if not argv else None
        if reason and not problems:
            notes.append(f"{shown}: nothing left to allow: remove it from ALLOWED")
        if reason and problems:
            allowed += [f"{p}  [allowed: {reason}]" for p in problems]
            notes.append(f"{shown}: {len(problems)} allowed ({reason})")
        else:
            failed += len(problems)
            print("\n".join(problems), end="\n" if problems else "")
    print("\n".join(allowed), end="\n" if allowed else "")  # after the problems that count
    note = f"; {'; '.join(notes)}" if notes else ""
    if failed:
        print(f"check-docs: {failed} problems in the kernel-doc of {len(headers)} headers{note}")
        return 1
    print(f"check-docs: {total} symbols in {len(headers)} headers documented{note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
