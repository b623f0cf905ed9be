/* Strict reading of the JSON formats ROMbsr defines: unknown fields, wrong
 * types, oversize strings or arrays, non-canonical hex and unsafe names are
 * refused with the path of the bad field ("request.operations[3].tbs").
 * Every limit is documented with its format in docs/. */
#ifndef ROMBSR_JSON_STRICT_H
#define ROMBSR_JSON_STRICT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ROMBSR_JSON_PATH_MAX 160

/* Parses text (at most max bytes) into a JSON object; duplicate keys,
 * NUL characters and trailing garbage are refused. what names the
 * document in errors. */
int rombsr_json_load(const char *text, size_t len, size_t max, const char *what, json_t **out);

/* Loads a ROMbsr document from a file's text: a JSON object whose "format"
 * is format and whose "version" is version (another version is
 * ROMBSR_EUNSUPPORTED). path names the file in errors. */
int rombsr_json_load_document(const char *text, size_t len, const char *path, const char *format, int version,
			      json_t **out);

/* Refuses any key of obj not in allowed (NULL-terminated). */
int rombsr_json_only(const json_t *obj, const char *path, const char *const *allowed);

/* Each reads obj[key] (required unless noted) and names path.key in
 * errors. */
int rombsr_json_string(const json_t *obj, const char *path, const char *key, size_t max, const char **out);
int rombsr_json_string_opt(const json_t *obj, const char *path, const char *key, size_t max, const char **out);
/* The same for a value already in hand (an array's item); what is its
 * full path ("policy.keys.platform.programs[2]"). */
int rombsr_json_string_value(const json_t *v, const char *what, size_t max, const char **out);
int rombsr_json_int(const json_t *obj, const char *path, const char *key, int64_t min, int64_t max, int64_t *out);
int rombsr_json_bool(const json_t *obj, const char *path, const char *key, bool *out);
int rombsr_json_object(const json_t *obj, const char *path, const char *key, json_t **out);
int rombsr_json_array(const json_t *obj, const char *path, const char *key, size_t max, json_t **out);
/* Exactly len bytes of lower-case hex. */
int rombsr_json_hex(const json_t *obj, const char *path, const char *key, unsigned char *out, size_t len);
/* 1..max bytes of lower-case hex; *out_len set. */
int rombsr_json_hex_var(const json_t *obj, const char *path, const char *key, unsigned char *out, size_t max,
			size_t *out_len);
/* "YYYY-MM-DDTHH:MM:SSZ" exactly, as UTC. */
int rombsr_json_time(const json_t *obj, const char *path, const char *key, time_t *out);
/* One of the NULL-terminated choices; *index set. */
int rombsr_json_enum(const json_t *obj, const char *path, const char *key, const char *const *choices, int *index);

/* A relative file name: no "..", "." or empty component, no leading "/",
 * no control characters, no backslash. */
int rombsr_safe_name(const char *name, const char *path);

/* Appends "[i]" or ".key" to a path. */
void rombsr_json_path_index(char *out, size_t size, const char *path, const char *key, size_t i);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ". */
void rombsr_time_format(time_t t, char out[21]);

#endif
