// SPDX-License-Identifier: GPL-2.0-or-later
/* control-proto.c - protocol 2 of the control socket: parse a JSON request, check its
 * arguments against the command's declaration, run it, write the reply; event lines. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "control.h"

G_DEFINE_QUARK(netbe - control - error - quark, control_error)

static const char *const class_names[] = {
    [CONTROL_ERROR_FAILED] = "Failed",
    [CONTROL_ERROR_INVALID_REQUEST] = "InvalidRequest",
    [CONTROL_ERROR_UNKNOWN_COMMAND] = "UnknownCommand",
    [CONTROL_ERROR_INVALID_ARGUMENT] = "InvalidArgument",
    [CONTROL_ERROR_NOT_FOUND] = "NotFound",
    [CONTROL_ERROR_BUSY] = "Busy",
    [CONTROL_ERROR_DENIED] = "Denied",
};

static const char *const arg_type_names[] = {
    [CONTROL_ARG_STRING] = "string", [CONTROL_ARG_INT] = "integer",
    [CONTROL_ARG_NUMBER] = "number", [CONTROL_ARG_BOOL] = "boolean",
    [CONTROL_ARG_OBJECT] = "object", [CONTROL_ARG_ARRAY] = "array",
};

/* What a word for an argument of each type may be, for messages. */
static const char *const arg_word_forms[] = {
    [CONTROL_ARG_STRING] = "a string",     [CONTROL_ARG_INT] = "an integer",
    [CONTROL_ARG_NUMBER] = "a number",     [CONTROL_ARG_BOOL] = "on or off",
    [CONTROL_ARG_OBJECT] = "KEY=VALUE...", [CONTROL_ARG_ARRAY] = "words",
};

static ControlErrorClass error_class(const GError *err);

const char *control_error_class_name(const GError *err)
{
    ControlErrorClass class = error_class(err);

    return class >= 0 && (size_t) class < G_N_ELEMENTS(class_names)
               ? class_names[class]
               : class_names[CONTROL_ERROR_FAILED];
}

/* One line of JSON text for @root (taken), with its newline. */
static char *json_line(JsonNode *root)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *text = NULL;

    json_generator_set_root(gen, root);
    text = json_generator_to_data(gen, NULL);
    json_node_unref(root);
    return g_strconcat(text, "\n", NULL);
}

/* {"id":..,"error":{..}} or {"id":..,"return":..}: start the object, with @id if any. */
static JsonBuilder *reply_begin(JsonNode *id)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    if (id) {
        json_builder_set_member_name(b, "id");
        json_builder_add_value(b, json_node_copy(id));
    }
    return b;
}

static char *reply_end(JsonBuilder *b)
{
    JsonNode *root;

    json_builder_end_object(b);
    root = json_builder_get_root(b);
    g_object_unref(b);
    return json_line(root);
}

char *control_error_line(JsonNode *id, ControlErrorClass class, const char *message)
{
    JsonBuilder *b = reply_begin(id);
    g_autofree char *valid = g_utf8_make_valid(message, -1);

    if (class < 0 || (size_t) class >= G_N_ELEMENTS(class_names)) {
        class = CONTROL_ERROR_FAILED; /* a handler's code that is no class */
    }
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "class");
    json_builder_add_string_value(b, class_names[class]);
    json_builder_set_member_name(b, "message");
    json_builder_add_string_value(b, valid); /* a handover peer's words may be anything */
    json_builder_end_object(b);
    return reply_end(b);
}

/* The class of @err: its code in CONTROL_ERROR; NotFound for ENOENT of libnetbe (no such
 * netdev, device, capture...); else Failed. */
static ControlErrorClass error_class(const GError *err)
{
    if (err->domain == CONTROL_ERROR) {
        return err->code;
    }
    if (err->code == ENOENT &&
        (err->domain == NETBE_CONFIG_ERROR || err->domain == NETBE_BACKEND_ERROR ||
         err->domain == NETBE_PLUGIN_ERROR)) {
        return CONTROL_ERROR_NOT_FOUND;
    }
    return CONTROL_ERROR_FAILED;
}

static char *error_reply(JsonNode *id, const GError *err)
{
    ControlErrorClass class = error_class(err);

    return control_error_line(id, class, err->message);
}

static const ControlArg *arg_find(const ControlCommand *cmd, const char *name)
{
    for (const ControlArg *a = cmd->args; a->name; a++) {
        if (strcmp(a->name, name) == 0) {
            return a;
        }
    }
    return NULL;
}

static bool word_to_bool(const char *w, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"}, *const no[] = {"off", "false",
                                                                                "no", "0"};

    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(w, yes[i]) == 0 || g_ascii_strcasecmp(w, no[i]) == 0) {
            *out = g_ascii_strcasecmp(w, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

/* Set argument @a of @args from the word @w (typed as @shown: "--count" or "count"). Return:
 * false with @errp set. */
static bool arg_from_word(const ControlCommand *cmd, JsonObject *args, const ControlArg *a,
                          const char *shown, const char *w, GError **errp)
{
    gint64 n;
    double d;
    char *end;
    bool b;

    switch (a->type) {
    case CONTROL_ARG_STRING:
        json_object_set_string_member(args, a->name, w);
        return true;
    case CONTROL_ARG_INT:
        if (!g_ascii_string_to_signed(w, 10, G_MININT64, G_MAXINT64, &n, NULL)) {
            break;
        }
        json_object_set_int_member(args, a->name, n);
        return true;
    case CONTROL_ARG_NUMBER:
        d = g_ascii_strtod(w, &end);
        if (!*w || *end || !isfinite(d)) {
            break;
        }
        json_object_set_double_member(args, a->name, d);
        return true;
    case CONTROL_ARG_BOOL:
        if (!word_to_bool(w, &b)) {
            break;
        }
        json_object_set_boolean_member(args, a->name, b);
        return true;
    default:
        break;
    }
    g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT, "%s: %s '%s' (allowed: %s)",
                cmd->name, shown, w, arg_word_forms[a->type]);
    return false;
}

/* "--NAME" of a word that names no argument: the error lists those that may be named so. */
static void unknown_option(const ControlCommand *cmd, const char *w, GError **errp)
{
    g_autoptr(GString) allowed = g_string_new(NULL);

    for (const ControlArg *a = cmd->args; a->name; a++) {
        if (!a->required && a->type != CONTROL_ARG_OBJECT && a->type != CONTROL_ARG_ARRAY) {
            g_string_append_printf(allowed, "%s--%s", allowed->len ? ", " : "", a->name);
        }
    }
    g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                "%s: unknown option '%s' (allowed: %s)", cmd->name, w,
                allowed->len ? allowed->str : "none");
}

/* The last argument, if it takes what is left over (object or array). */
static const ControlArg *arg_rest(const ControlCommand *cmd)
{
    const ControlArg *last = NULL;

    for (const ControlArg *a = cmd->args; a->name; a++) {
        last = a;
    }
    return last && (last->type == CONTROL_ARG_OBJECT || last->type == CONTROL_ARG_ARRAY) ? last
                                                                                         : NULL;
}

/* Put the leftover word @w into the rest argument @rest. Return: false if it cannot go. */
static bool arg_rest_add(JsonObject *args, const ControlArg *rest, const char *w)
{
    const char *eq = strchr(w, '=');

    if (!json_object_has_member(args, rest->name)) {
        if (rest->type == CONTROL_ARG_OBJECT) {
            json_object_set_object_member(args, rest->name, json_object_new());
        } else {
            json_object_set_array_member(args, rest->name, json_array_new());
        }
    }
    if (rest->type == CONTROL_ARG_ARRAY) {
        json_array_add_string_element(json_object_get_array_member(args, rest->name), w);
        return true;
    }
    if (!eq || eq == w) {
        return false;
    }
    g_autofree char *key = g_strndup(w, eq - w);
    json_object_set_string_member(json_object_get_object_member(args, rest->name), key, eq + 1);
    return true;
}

/*
 * The words of a command line as arguments: "NAME=VALUE" and "--NAME VALUE" (a boolean:
 * "--NAME") set that argument; other words fill the declared arguments in order; what is
 * left goes to a last object (KEY=VALUE) or array argument.
 */
static JsonObject *args_from_argv(const ControlCommand *cmd, JsonArray *argv, GError **errp)
{
    g_autoptr(JsonObject) args = json_object_new();
    const ControlArg *next = cmd->args, *rest = arg_rest(cmd);
    guint n = json_array_get_length(argv);

    for (guint i = 0; i < n; i++) {
        JsonNode *el = json_array_get_element(argv, i);
        const char *w = JSON_NODE_HOLDS_VALUE(el) ? json_node_get_string(el) : NULL;
        const char *eq = w ? strchr(w, '=') : NULL;
        g_autofree char *name = NULL;
        const ControlArg *a = NULL;
        const char *shown = NULL;

        if (!w) {
            g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_REQUEST,
                        "argv[%u] is not a string", i);
            return NULL;
        }
        if (g_str_has_prefix(w, "--") && !(rest && rest->type == CONTROL_ARG_ARRAY) &&
            !arg_find(cmd, w + 2)) {
            unknown_option(cmd, w, errp);
            return NULL;
        }
        if (g_str_has_prefix(w, "--") && (a = arg_find(cmd, w + 2))) {
            shown = w;
            if (a->type == CONTROL_ARG_BOOL) {
                json_object_set_boolean_member(args, a->name, true);
                continue;
            }
            if (i + 1 == n) {
                g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT, "%s needs a value",
                            w);
                return NULL;
            }
            w = json_array_get_string_element(argv, ++i);
        } else if (eq && (name = g_strndup(w, eq - w)) && (a = arg_find(cmd, name)) && a != rest) {
            w = eq + 1;
        } else {
            a = NULL;
            while (next->name && (json_object_has_member(args, next->name) || next == rest)) {
                next++;
            }
            a = next->name ? next : NULL;
        }
        if (!a && rest && arg_rest_add(args, rest, w)) {
            continue;
        }
        if (!a || a->type == CONTROL_ARG_OBJECT || a->type == CONTROL_ARG_ARRAY) {
            g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                        "%s: unexpected argument '%s'", cmd->name, w ? w : "");
            return NULL;
        }
        if (!arg_from_word(cmd, args, a, shown ? shown : a->name, w, errp)) {
            return NULL;
        }
    }
    return g_steal_pointer(&args);
}

static bool node_has_type(JsonNode *node, ControlArgType type)
{
    GType vt = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;

    switch (type) {
    case CONTROL_ARG_STRING:
        return vt == G_TYPE_STRING;
    case CONTROL_ARG_INT:
        return vt == G_TYPE_INT64;
    case CONTROL_ARG_NUMBER:
        return vt == G_TYPE_INT64 || vt == G_TYPE_DOUBLE;
    case CONTROL_ARG_BOOL:
        return vt == G_TYPE_BOOLEAN;
    case CONTROL_ARG_OBJECT:
        return JSON_NODE_HOLDS_OBJECT(node);
    case CONTROL_ARG_ARRAY:
        return JSON_NODE_HOLDS_ARRAY(node);
    }
    return false;
}

/* Every member of @args is declared and of its type; every required one is there. */
static bool args_check(const ControlCommand *cmd, JsonObject *args, GError **errp)
{
    g_autoptr(GList) names = json_object_get_members(args);

    for (GList *l = names; l; l = l->next) {
        const ControlArg *a = arg_find(cmd, l->data);

        if (!a) {
            g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                        "%s takes no argument '%s'", cmd->name, (const char *)l->data);
            return false;
        }
        if (!node_has_type(json_object_get_member(args, a->name), a->type)) {
            g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                        "%s: argument '%s' must be a%s %s", cmd->name, a->name,
                        a->type == CONTROL_ARG_INT || a->type == CONTROL_ARG_OBJECT ||
                                a->type == CONTROL_ARG_ARRAY
                            ? "n"
                            : "",
                        arg_type_names[a->type]);
            return false;
        }
    }
    for (const ControlArg *a = cmd->args; a->name; a++) {
        if (a->required && !json_object_has_member(args, a->name)) {
            g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                        "%s needs argument '%s' (%s)", cmd->name, a->name, a->help);
            return false;
        }
    }
    return true;
}

/* The command and its checked arguments from request @req. Return: NULL with @errp set. */
static JsonObject *request_args(JsonObject *req, const ControlCommand **cmd, GError **errp)
{
    JsonNode *name = json_object_get_member(req, "command");
    JsonNode *args = json_object_get_member(req, "arguments");
    JsonNode *argv = json_object_get_member(req, "argv");
    g_autoptr(JsonObject) out = NULL;
    g_autoptr(GList) members = json_object_get_members(req);

    for (GList *l = members; l; l = l->next) {
        if (!g_strv_contains((const char *const[]){"id", "command", "arguments", "argv", NULL},
                             l->data)) {
            g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_REQUEST,
                        "unknown member '%s' (allowed: id, command, arguments, argv)",
                        (const char *)l->data);
            return NULL;
        }
    }
    if (!name || !JSON_NODE_HOLDS_VALUE(name) || json_node_get_value_type(name) != G_TYPE_STRING) {
        g_set_error_literal(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_REQUEST,
                            "the request has no \"command\" string");
        return NULL;
    }
    if (!(*cmd = control_commands_find(json_node_get_string(name)))) {
        g_autofree char *shown = g_strescape(json_node_get_string(name), NULL);

        g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_UNKNOWN_COMMAND,
                    "unknown command '%.64s' (hello lists the commands)", shown);
        return NULL;
    }
    if ((args && !JSON_NODE_HOLDS_OBJECT(args)) || (argv && !JSON_NODE_HOLDS_ARRAY(argv)) ||
        (args && argv)) {
        g_set_error_literal(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_REQUEST,
                            "\"arguments\" must be an object, \"argv\" an array of strings, "
                            "and only one of them may be given");
        return NULL;
    }
    if (argv) {
        out = args_from_argv(*cmd, json_node_get_array(argv), errp);
    } else {
        out = args ? json_object_ref(json_node_get_object(args)) : json_object_new();
    }
    return out && args_check(*cmd, out, errp) ? g_steal_pointer(&out) : NULL;
}

/* What a request must be, for the client's eyes. */
static const char request_shape[] = "a request is a JSON object: {\"id\":..,\"command\":..}";

/* One of JSON's four blanks. */
static bool json_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Why @line (@len bytes) is not one JSON object with nothing after it but blanks, or NULL
 * if it is. Checked before the parser sees a request: json-glib 1.6 parses every value of
 * a line such as "{}{}{}" and leaks all but the first (about 400 bytes each, so one 4 KiB
 * line would leak 800 KB). Strict JSON only: a single quote or a '/' outside a string
 * (json-glib's quoting and comments) is refused too, so that this scan and the parser agree
 * where the object ends.
 */
static const char *request_not_one_object(const char *line, size_t len)
{
    size_t i = 0, depth = 0;

    while (i < len && json_blank(line[i])) {
        i++;
    }
    if (i == len || line[i] != '{') {
        return request_shape;
    }
    for (; i < len; i++) {
        char c = line[i];

        if (c == '"') {
            for (i++; i < len && line[i] != '"'; i++) {
                i += line[i] == '\\'; /* the escaped character is not the end */
            }
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            break;
        } else if (c == '\'' || c == '/') {
            return "not JSON: a single quote or '/' outside a string";
        }
    }
    if (i >= len) {
        return "not JSON: the object does not end on its line";
    }
    for (i++; i < len; i++) {
        if (!json_blank(line[i])) {
            return "not JSON: more than one value on the line (a request is one object)";
        }
    }
    return NULL;
}

char *control_request_run(ControlCall *call, const char *line, size_t len)
{
    const char *const *refuse = control_server_options(call->srv)->refuse;
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) err = NULL;
    g_autoptr(JsonObject) args = NULL;
    const ControlCommand *cmd = NULL;
    JsonNode *root, *id = NULL, *ret;
    JsonBuilder *b;
    const char *why;

    if (memchr(line, '\0', len)) {
        return control_error_line(NULL, CONTROL_ERROR_INVALID_REQUEST,
                                  "the request contains a NUL byte");
    }
    if ((why = request_not_one_object(line, len))) {
        return control_error_line(NULL, CONTROL_ERROR_INVALID_REQUEST, why);
    }
    if (!json_parser_load_from_data(parser, line, len, &err)) {
        g_autofree char *msg = g_strdup_printf("not JSON: %s", err->message);

        return control_error_line(NULL, CONTROL_ERROR_INVALID_REQUEST, msg);
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        return control_error_line(NULL, CONTROL_ERROR_INVALID_REQUEST, request_shape);
    }
    id = json_object_get_member(json_node_get_object(root), "id");
    args = request_args(json_node_get_object(root), &cmd, &err);
    if (!args) {
        return error_reply(id, err);
    }
    if (refuse && g_strv_contains(refuse, cmd->name)) {
        return control_error_line(id, CONTROL_ERROR_DENIED, "this command is disabled here");
    }
    ret = cmd->handler(call, args, &err);
    if (!ret && err) {
        return error_reply(id, err);
    }
    b = reply_begin(id);
    json_builder_set_member_name(b, "return");
    if (ret) {
        json_builder_add_value(b, ret);
    } else {
        json_builder_begin_object(b);
        json_builder_end_object(b);
    }
    return reply_end(b);
}

char *control_event_line(const char *name, GVariant *data, gint64 time_us)
{
    JsonBuilder *b = json_builder_new();
    JsonNode *root;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, name);
    json_builder_set_member_name(b, "data");
    json_builder_add_value(b, json_gvariant_serialize(data));
    json_builder_set_member_name(b, "timestamp");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_int_value(b, time_us / G_USEC_PER_SEC);
    json_builder_set_member_name(b, "microseconds");
    json_builder_add_int_value(b, time_us % G_USEC_PER_SEC);
    json_builder_end_object(b);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    g_object_unref(b);
    return json_line(root);
}

const char *control_arg_string(JsonObject *args, const char *name, const char *dflt)
{
    return json_object_has_member(args, name) ? json_object_get_string_member(args, name) : dflt;
}

gint64 control_arg_int(JsonObject *args, const char *name, gint64 dflt)
{
    return json_object_has_member(args, name) ? json_object_get_int_member(args, name) : dflt;
}

double control_arg_number(JsonObject *args, const char *name, double dflt)
{
    return json_object_has_member(args, name) ? json_object_get_double_member(args, name) : dflt;
}

const char **control_arg_words(JsonObject *args, const char *name, const char *command,
                               GError **errp)
{
    JsonArray *a =
        json_object_has_member(args, name) ? json_object_get_array_member(args, name) : NULL;
    guint n = a ? json_array_get_length(a) : 0;
    g_autofree const char **words = g_new0(const char *, n + 1);

    for (guint i = 0; i < n; i++) {
        JsonNode *w = json_array_get_element(a, i);

        if (!JSON_NODE_HOLDS_VALUE(w) || json_node_get_value_type(w) != G_TYPE_STRING) {
            g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                        "%s: %s[%u] is not a \"KEY=VALUE\" string", command, name, i);
            return NULL;
        }
        words[i] = json_node_get_string(w);
    }
    return g_steal_pointer(&words);
}

bool control_arg_bool(JsonObject *args, const char *name, bool dflt)
{
    return json_object_has_member(args, name) ? json_object_get_boolean_member(args, name) : dflt;
}

JsonNode *control_return_variant(GVariant *v)
{
    JsonNode *node;

    g_variant_take_ref(v); /* a floating one becomes ours; a full one is the caller's, given */
    node = json_gvariant_serialize(v);
    g_variant_unref(v);
    return node;
}

const ControlCommand *control_commands_find(const char *name)
{
    for (unsigned i = 0; i < control_command_count; i++) {
        if (strcmp(control_commands[i].name, name) == 0) {
            return &control_commands[i];
        }
    }
    return NULL;
}

JsonNode *control_commands_describe(void)
{
    JsonArray *list = json_array_new();
    JsonNode *node = json_node_new(JSON_NODE_ARRAY);

    for (unsigned i = 0; i < control_command_count; i++) {
        const ControlCommand *cmd = &control_commands[i];
        JsonObject *c = json_object_new();
        JsonArray *args = json_array_new();

        for (const ControlArg *a = cmd->args; a->name; a++) {
            JsonObject *o = json_object_new();

            json_object_set_string_member(o, "name", a->name);
            json_object_set_string_member(o, "type", arg_type_names[a->type]);
            json_object_set_boolean_member(o, "required", a->required);
            json_object_set_string_member(o, "help", a->help ? a->help : "");
            json_array_add_object_element(args, o);
        }
        json_object_set_string_member(c, "name", cmd->name);
        json_object_set_string_member(c, "help", cmd->help);
        json_object_set_array_member(c, "arguments", args);
        json_array_add_object_element(list, c);
    }
    json_node_take_array(node, list);
    return node;
}
