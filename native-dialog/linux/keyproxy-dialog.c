/* keyproxy-dialog: the Linux native dialog of mcp-keyproxy (GTK 3 + json-glib).
 *
 * Reads a JSON template on stdin, shows a window with the verification code and one field per template field,
 * and on submit prints {"name": "value", ...} on stdout. Exit 0 submit, 1 cancel/close/Escape, 2 error
 * (bad template, no display, timeout) with a message on stderr. Confirm mode prints {"decision": ...}.
 * The protocol is described in ../README.md. Template text is always shown as plain text, never as markup. */
#include <gtk/gtk.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MAX_TEMPLATE_BYTES (64 * 1024)
#define MAX_FIELDS 32
#define MAX_TIMEOUT_S (24.0 * 3600.0)

typedef enum { FIELD_TEXT, FIELD_PASSWORD, FIELD_URL, FIELD_EMAIL } FieldType;

typedef struct {
  const char *name, *label, *default_value, *help_text;
  FieldType type;
  gboolean required;
  glong min_length;          /* fewest characters a non-empty value may have; 0: any */
  char *min_length_problem;  /* the inline message when it has fewer */
  GtkWidget *entry, *error;
} Field;

typedef struct {
  const char *title, *description, *code;
  gboolean confirm;
  double timeout_s;
  Field fields[MAX_FIELDS];
  guint n_fields;
} Template;

static Template tpl;
static GtkWidget *ok_button;
static int exit_code = 1; /* closing the window in any way we did not foresee counts as cancel */

static void fail(const char *message) G_GNUC_NORETURN;
static void fail(const char *message) {
  fprintf(stderr, "keyproxy-dialog: %s\n", message);
  exit(2);
}

/* ---------- template ---------- */

static char *read_stdin(void) {
  GString *buf = g_string_new(NULL);
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
    if (buf->len + n > MAX_TEMPLATE_BYTES) fail("template is larger than 64 KB");
    g_string_append_len(buf, chunk, (gssize)n);
  }
  if (ferror(stdin)) fail("cannot read the template from stdin");
  return g_string_free(buf, FALSE);
}

/* A member of the expected type, NULL when absent or null; a member of another type is a template error. */
static JsonNode *member(JsonObject *obj, const char *key, GType type, const char *where) {
  JsonNode *node = json_object_get_member(obj, key);
  if (node == NULL || JSON_NODE_HOLDS_NULL(node)) return NULL;
  GType value_type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_INVALID;
  gboolean ok;
  if (type == JSON_TYPE_ARRAY) ok = JSON_NODE_HOLDS_ARRAY(node);
  else if (type == G_TYPE_DOUBLE) ok = value_type == G_TYPE_DOUBLE || value_type == G_TYPE_INT64;
  else ok = value_type == type;
  if (!ok) {
    char *msg = g_strdup_printf("bad template: %s\"%s\" has the wrong type", where, key);
    fail(msg);
  }
  return node;
}

static const char *string_member(JsonObject *obj, const char *key, gboolean required, const char *where) {
  JsonNode *node = member(obj, key, G_TYPE_STRING, where);
  if (node == NULL && required) {
    char *msg = g_strdup_printf("bad template: %s\"%s\" is missing", where, key);
    fail(msg);
  }
  return node ? json_node_get_string(node) : NULL;
}

static void parse_field(JsonNode *node, guint index, Field *f) {
  char *where = g_strdup_printf("fields[%u].", index);
  if (!JSON_NODE_HOLDS_OBJECT(node)) fail("bad template: every field must be an object");
  JsonObject *obj = json_node_get_object(node);
  f->name = string_member(obj, "name", TRUE, where);
  if (*f->name == '\0') fail("bad template: a field has an empty name");
  f->label = string_member(obj, "label", FALSE, where);
  if (f->label == NULL || *f->label == '\0') f->label = f->name;
  f->default_value = string_member(obj, "default", FALSE, where);
  f->help_text = string_member(obj, "help_text", FALSE, where);
  JsonNode *req = member(obj, "required", G_TYPE_BOOLEAN, where);
  f->required = req ? json_node_get_boolean(req) : FALSE;
  JsonNode *min = member(obj, "min_length", G_TYPE_DOUBLE, where);
  if (min != NULL) {
    double n = json_node_get_double(min);
    if (!(n >= 0 && n <= 4096)) fail("bad template: min_length out of range");
    f->min_length = (glong)n;
    f->min_length_problem = g_strdup_printf("Enter at least %ld characters", f->min_length);
  }
  const char *type = string_member(obj, "field_type", FALSE, where);
  if (type == NULL || strcmp(type, "text") == 0) f->type = FIELD_TEXT;
  else if (strcmp(type, "password") == 0) f->type = FIELD_PASSWORD;
  else if (strcmp(type, "url") == 0) f->type = FIELD_URL;
  else if (strcmp(type, "email") == 0) f->type = FIELD_EMAIL;
  else fail("bad template: field_type must be text, password, url or email");
  g_free(where);
}

static void parse_template(const char *text) {
  JsonParser *parser = json_parser_new();
  GError *error = NULL;
  if (!json_parser_load_from_data(parser, text, -1, &error)) {
    char *msg = g_strdup_printf("bad template: %s", error->message);
    fail(msg);
  }
  JsonNode *root = json_parser_get_root(parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) fail("bad template: expected a JSON object");
  JsonObject *obj = json_node_get_object(root); /* parser is never freed: the strings live until exit */
  tpl.title = string_member(obj, "title", TRUE, "");
  tpl.description = string_member(obj, "description", FALSE, "");
  tpl.code = string_member(obj, "verification_code", TRUE, "");
  const char *mode = string_member(obj, "mode", FALSE, "");
  if (mode != NULL && strcmp(mode, "confirm") != 0 && strcmp(mode, "form") != 0)
    fail("bad template: mode must be \"form\" or \"confirm\"");
  tpl.confirm = mode != NULL && strcmp(mode, "confirm") == 0;
  JsonNode *timeout = member(obj, "timeout_s", G_TYPE_DOUBLE, "");
  if (timeout != NULL) {
    tpl.timeout_s = json_node_get_double(timeout);
    if (!(tpl.timeout_s > 0 && tpl.timeout_s <= MAX_TIMEOUT_S)) fail("bad template: timeout_s out of range");
  }
  JsonNode *fields = member(obj, "fields", JSON_TYPE_ARRAY, "");
  guint n = fields ? json_array_get_length(json_node_get_array(fields)) : 0;
  if (tpl.confirm && n > 0) fail("bad template: confirm mode takes no fields");
  if (!tpl.confirm && n == 0) fail("bad template: \"fields\" must be a non-empty array");
  if (n > MAX_FIELDS) fail("bad template: too many fields");
  for (guint i = 0; i < n; i++) {
    parse_field(json_array_get_element(json_node_get_array(fields), i), i, &tpl.fields[i]);
    for (guint j = 0; j < i; j++)
      if (strcmp(tpl.fields[i].name, tpl.fields[j].name) == 0) fail("bad template: two fields share a name");
  }
  tpl.n_fields = n;
}

/* ---------- validation ---------- */

static gboolean is_http_url(const char *text) {
  GUri *uri = g_uri_parse(text, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL) return FALSE;
  const char *scheme = g_uri_get_scheme(uri), *host = g_uri_get_host(uri);
  gboolean ok = (g_ascii_strcasecmp(scheme, "http") == 0 || g_ascii_strcasecmp(scheme, "https") == 0) &&
                host != NULL && *host != '\0' && strpbrk(text, " \t\r\n") == NULL;
  g_uri_unref(uri);
  return ok;
}

static gboolean is_email(const char *text) {
  return g_regex_match_simple("^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$", text, 0, 0);
}

/* Updates the inline error of one field; returns whether the field may be submitted. */
static gboolean check_field(Field *f) {
  const char *text = gtk_entry_get_text(GTK_ENTRY(f->entry));
  const char *problem = NULL;
  if (*text != '\0' && f->type == FIELD_URL && !is_http_url(text)) problem = "Enter an http:// or https:// URL";
  if (*text != '\0' && f->type == FIELD_EMAIL && !is_email(text)) problem = "Enter an email address";
  if (problem == NULL && *text != '\0' && g_utf8_strlen(text, -1) < f->min_length) problem = f->min_length_problem;
  gtk_label_set_text(GTK_LABEL(f->error), problem ? problem : "");
  gtk_widget_set_visible(f->error, problem != NULL);
  return problem == NULL && !(f->required && *text == '\0');
}

static gboolean form_valid(void) {
  gboolean ok = TRUE;
  for (guint i = 0; i < tpl.n_fields; i++) ok = check_field(&tpl.fields[i]) && ok;
  return ok;
}

static void on_changed(GtkEditable *editable, gpointer data) {
  (void)editable, (void)data;
  gtk_widget_set_sensitive(ok_button, form_valid());
}

/* ---------- results ---------- */

static void print_json(JsonBuilder *builder) {
  JsonNode *root = json_builder_get_root(builder);
  JsonGenerator *gen = json_generator_new();
  json_generator_set_root(gen, root);
  gsize len = 0;
  char *out = json_generator_to_data(gen, &len);
  fwrite(out, 1, len, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  memset(out, 0, len); /* the copy we own; GtkEntryBuffer wipes its own memory when cleared below */
  g_free(out);
  g_object_unref(gen);
  json_node_unref(root);
}

static void finish(int code) {
  exit_code = code;
  gtk_main_quit();
}

static void submit(void) {
  if (!form_valid()) return;
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  for (guint i = 0; i < tpl.n_fields; i++) {
    json_builder_set_member_name(builder, tpl.fields[i].name);
    json_builder_add_string_value(builder, gtk_entry_get_text(GTK_ENTRY(tpl.fields[i].entry)));
  }
  json_builder_end_object(builder);
  print_json(builder);
  g_object_unref(builder);
  for (guint i = 0; i < tpl.n_fields; i++)
    gtk_entry_buffer_delete_text(gtk_entry_get_buffer(GTK_ENTRY(tpl.fields[i].entry)), 0, -1);
  finish(0);
}

static void on_decision(GtkButton *button, gpointer decision) {
  (void)button;
  JsonBuilder *builder = json_builder_new();
  json_builder_begin_object(builder);
  json_builder_set_member_name(builder, "decision");
  json_builder_add_string_value(builder, decision);
  json_builder_end_object(builder);
  print_json(builder);
  g_object_unref(builder);
  finish(0);
}

static void on_ok(GtkWidget *w, gpointer data) { (void)w, (void)data; submit(); }
static void on_cancel(GtkWidget *w, gpointer data) { (void)w, (void)data; finish(1); }

static gboolean on_delete(GtkWidget *w, GdkEvent *e, gpointer data) {
  (void)w, (void)e, (void)data;
  finish(1);
  return TRUE;
}

static gboolean on_key(GtkWidget *w, GdkEventKey *event, gpointer data) {
  (void)w, (void)data;
  if (event->keyval != GDK_KEY_Escape) return FALSE;
  finish(1);
  return TRUE;
}

static gboolean on_timeout(gpointer data) {
  (void)data;
  fprintf(stderr, "keyproxy-dialog: timed out after %g s without an answer\n", tpl.timeout_s);
  finish(2);
  return G_SOURCE_REMOVE;
}

/* The proxy holds the read end of stdout: when it dies (even by SIGKILL) the pipe reports an error or hang-up,
 * and a dialog nobody can answer to must not stay on the screen. */
static gboolean on_requester_gone(GIOChannel *channel, GIOCondition condition, gpointer data) {
  (void)channel, (void)condition, (void)data;
  fprintf(stderr, "keyproxy-dialog: the requesting process went away\n");
  finish(2);
  return G_SOURCE_REMOVE;
}

/* ---------- window ---------- */

/* A plain-text label: gtk_label_set_text never interprets markup, so template text shows literally. */
static GtkWidget *text_label(const char *text, double scale, gboolean bold, gboolean mono) {
  GtkWidget *label = gtk_label_new(NULL);
  gtk_label_set_text(GTK_LABEL(label), text);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
  gtk_label_set_max_width_chars(GTK_LABEL(label), 60);
  PangoAttrList *attrs = pango_attr_list_new();
  if (scale != 1.0) pango_attr_list_insert(attrs, pango_attr_scale_new(scale));
  if (bold) pango_attr_list_insert(attrs, pango_attr_weight_new(PANGO_WEIGHT_BOLD));
  if (mono) pango_attr_list_insert(attrs, pango_attr_family_new("monospace"));
  gtk_label_set_attributes(GTK_LABEL(label), attrs);
  pango_attr_list_unref(attrs);
  return label;
}

static void set_accessible_name(GtkWidget *widget, const char *name) {
  atk_object_set_name(gtk_widget_get_accessible(widget), name);
}

static void add_field(GtkWidget *box, Field *f) {
  char *caption = g_strconcat(f->label, f->required ? " *" : "", NULL);
  GtkWidget *label = text_label(caption, 1.0, FALSE, FALSE);
  g_free(caption);
  gtk_widget_set_margin_top(label, 6);
  f->entry = gtk_entry_new();
  set_accessible_name(f->entry, f->label);
  gtk_label_set_mnemonic_widget(GTK_LABEL(label), f->entry);
  if (f->type == FIELD_PASSWORD) {
    gtk_entry_set_visibility(GTK_ENTRY(f->entry), FALSE);
    gtk_entry_set_input_purpose(GTK_ENTRY(f->entry), GTK_INPUT_PURPOSE_PASSWORD);
  } else if (f->default_value != NULL) {
    gtk_entry_set_text(GTK_ENTRY(f->entry), f->default_value);
  }
  if (f->type == FIELD_URL) gtk_entry_set_input_purpose(GTK_ENTRY(f->entry), GTK_INPUT_PURPOSE_URL);
  if (f->type == FIELD_EMAIL) gtk_entry_set_input_purpose(GTK_ENTRY(f->entry), GTK_INPUT_PURPOSE_EMAIL);
  g_signal_connect(f->entry, "changed", G_CALLBACK(on_changed), NULL);
  g_signal_connect(f->entry, "activate", G_CALLBACK(on_ok), NULL);
  gtk_box_pack_start(GTK_BOX(box), label, FALSE, FALSE, 0);
  gtk_box_pack_start(GTK_BOX(box), f->entry, FALSE, FALSE, 0);
  if (f->help_text != NULL) gtk_box_pack_start(GTK_BOX(box), text_label(f->help_text, 0.85, FALSE, FALSE), FALSE, FALSE, 0);
  f->error = text_label("", 0.85, TRUE, FALSE);
  PangoAttrList *attrs = gtk_label_get_attributes(GTK_LABEL(f->error));
  pango_attr_list_insert(attrs, pango_attr_foreground_new(0xc000, 0x1000, 0x1000));
  gtk_label_set_attributes(GTK_LABEL(f->error), attrs);
  gtk_widget_set_no_show_all(f->error, TRUE);
  gtk_box_pack_start(GTK_BOX(box), f->error, FALSE, FALSE, 0);
}

static GtkWidget *add_button(GtkWidget *bar, const char *text, GCallback cb, gpointer data) {
  GtkWidget *button = gtk_button_new_with_label(text);
  set_accessible_name(button, text);
  g_signal_connect(button, "clicked", cb, data);
  gtk_container_add(GTK_CONTAINER(bar), button);
  return button;
}

static GtkWidget *build_window(void) {
  GtkWidget *window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
  gtk_window_set_title(GTK_WINDOW(window), tpl.title);
  gtk_window_set_keep_above(GTK_WINDOW(window), TRUE);
  gtk_window_set_position(GTK_WINDOW(window), GTK_WIN_POS_CENTER_ALWAYS);
  gtk_window_set_resizable(GTK_WINDOW(window), FALSE);
  gtk_window_set_default_size(GTK_WINDOW(window), 460, -1);
  g_signal_connect(window, "delete-event", G_CALLBACK(on_delete), NULL);
  g_signal_connect(window, "key-press-event", G_CALLBACK(on_key), NULL);

  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_container_set_border_width(GTK_CONTAINER(box), 18);
  gtk_container_add(GTK_CONTAINER(window), box);
  gtk_box_pack_start(GTK_BOX(box), text_label(tpl.title, 1.3, TRUE, FALSE), FALSE, FALSE, 0);
  if (tpl.description != NULL && *tpl.description != '\0')
    gtk_box_pack_start(GTK_BOX(box), text_label(tpl.description, 1.0, FALSE, FALSE), FALSE, FALSE, 0);

  GtkWidget *code = text_label(tpl.code, 2.2, TRUE, TRUE);
  gtk_label_set_xalign(GTK_LABEL(code), 0.5);
  gtk_label_set_selectable(GTK_LABEL(code), FALSE);
  set_accessible_name(code, "Verification code");
  gtk_widget_set_margin_top(code, 12);
  gtk_box_pack_start(GTK_BOX(box), code, FALSE, FALSE, 0);
  GtkWidget *hint = text_label("Check that this code matches the one shown in your AI app.", 0.9, FALSE, FALSE);
  gtk_label_set_xalign(GTK_LABEL(hint), 0.5);
  gtk_widget_set_margin_bottom(hint, 12);
  gtk_box_pack_start(GTK_BOX(box), hint, FALSE, FALSE, 0);

  for (guint i = 0; i < tpl.n_fields; i++) add_field(box, &tpl.fields[i]);

  GtkWidget *bar = gtk_button_box_new(GTK_ORIENTATION_HORIZONTAL);
  gtk_button_box_set_layout(GTK_BUTTON_BOX(bar), GTK_BUTTONBOX_END);
  gtk_box_set_spacing(GTK_BOX(bar), 6);
  gtk_widget_set_margin_top(bar, 12);
  gtk_box_pack_end(GTK_BOX(box), bar, FALSE, FALSE, 0);
  if (tpl.confirm) {
    /* Deny comes first and takes the focus, so a stray Return or Space denies. */
    GtkWidget *deny = add_button(bar, "Deny", G_CALLBACK(on_decision), "deny");
    add_button(bar, "Allow always", G_CALLBACK(on_decision), "always");
    add_button(bar, "Allow for session", G_CALLBACK(on_decision), "session");
    add_button(bar, "Allow once", G_CALLBACK(on_decision), "once");
    gtk_widget_grab_focus(deny);
  } else {
    add_button(bar, "Cancel", G_CALLBACK(on_cancel), NULL);
    ok_button = add_button(bar, "OK", G_CALLBACK(on_ok), NULL);
    gtk_widget_set_can_default(ok_button, TRUE);
    gtk_window_set_default(GTK_WINDOW(window), ok_button);
    gtk_widget_set_sensitive(ok_button, form_valid());
    gtk_widget_grab_focus(tpl.fields[0].entry);
  }
  return window;
}

/* The typed values live in this process's memory, so a core file of it would hold them. RLIMIT_CORE 0: no core
 * file (a core_pattern pipe such as systemd-coredump is handed the limit and keeps none). Linux: not dumpable, so
 * no core at all (fs.suid_dumpable 0, the default), and other processes of the user can neither attach to it nor
 * read its memory (ptrace, /proc/<pid>/mem). Lowering a limit and clearing dumpable never fail. */
static void disable_core_dumps(void) {
  const struct rlimit none = {0, 0};
  (void)setrlimit(RLIMIT_CORE, &none);
#ifdef __linux__
  (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int main(int argc, char **argv) {
  disable_core_dumps();
  if (argc > 1) fail("takes no arguments: the template is read from stdin (see native-dialog/README.md)");
  char *text = read_stdin();
  parse_template(text);
  g_set_prgname("keyproxy-dialog");
  if (!gtk_init_check(&argc, &argv)) fail("cannot open a display (is DISPLAY or WAYLAND_DISPLAY set?)");
  GtkWidget *window = build_window();
  if (tpl.timeout_s > 0) g_timeout_add((guint)(tpl.timeout_s * 1000), on_timeout, NULL);
  struct stat out;
  if (fstat(STDOUT_FILENO, &out) == 0 && (S_ISFIFO(out.st_mode) || S_ISSOCK(out.st_mode))) {
    GIOChannel *stdout_channel = g_io_channel_unix_new(STDOUT_FILENO);
    g_io_add_watch(stdout_channel, G_IO_ERR | G_IO_HUP, on_requester_gone, NULL);
  }
  gtk_widget_show_all(window);
  gtk_window_present(GTK_WINDOW(window));
  gtk_main();
  gtk_widget_destroy(window);
  return exit_code;
}
