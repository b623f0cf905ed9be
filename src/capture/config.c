/* The module's configuration: a small "key = value" file, because the
 * module is loaded into other people's programs (java, openssl) and must
 * not pull libgit2's config parser into them. Unknown and repeated keys are
 * errors: a misspelt "mode" must never fall back to a default. */
#define _GNU_SOURCE
#include "capture.h"

#include "../common/buf.h"
#include "../common/error.h"
#include "../common/fsutil.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_MAX (64 * 1024)

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Relative paths are relative to the config file, not to whatever folder
 * the client happens to run in. */
static int set_path(char **slot, const char *value, const char *config_dir, const char *key, const char *file,
		    int line)
{
	if (*slot != NULL)
		return rombsr_error(ROMBSR_ECONFIG, "%s line %d: '%s' given twice", file, line, key);
	if (value[0] == '/')
		*slot = strdup(value);
	else if (asprintf(slot, "%s/%s", config_dir, value) < 0)
		*slot = NULL;
	return *slot != NULL ? 0 : rombsr_error(ROMBSR_ENOMEM, "out of memory");
}

static int parse(struct cap_config *cfg, char *text, const char *file, const char *config_dir)
{
	bool mode_set = false;
	int line = 0, r = 0;

	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l != NULL && r == 0;
	     l = strtok_r(NULL, "\n", &save)) {
		char *eq, *key, *value;

		line++;
		l = trim(l);
		if (l[0] == '\0' || l[0] == '#')
			continue;
		eq = strchr(l, '=');
		if (eq == NULL)
			return rombsr_error(ROMBSR_ECONFIG, "%s line %d: expected key = value", file, line);
		*eq = '\0';
		key = trim(l);
		value = trim(eq + 1);
		if (value[0] == '\0')
			return rombsr_error(ROMBSR_ECONFIG, "%s line %d: '%s' has no value", file, line, key);
		if (strcmp(key, "mode") == 0) {
			if (mode_set)
				return rombsr_error(ROMBSR_ECONFIG, "%s line %d: 'mode' given twice", file, line);
			mode_set = true;
			if (strcmp(value, "capture") == 0)
				cfg->mode = CAP_MODE_CAPTURE;
			else if (strcmp(value, "replay") == 0)
				cfg->mode = CAP_MODE_REPLAY;
			else
				return rombsr_error(ROMBSR_ECONFIG, "%s line %d: mode must be capture or replay", file,
						    line);
		} else if (strcmp(key, "bundle") == 0) {
			r = set_path(&cfg->bundle, value, config_dir, key, file, line);
		} else if (strcmp(key, "journal") == 0) {
			r = set_path(&cfg->journal, value, config_dir, key, file, line);
		} else if (strcmp(key, "signatures") == 0) {
			r = set_path(&cfg->signatures, value, config_dir, key, file, line);
		} else {
			return rombsr_error(ROMBSR_ECONFIG, "%s line %d: unknown key '%s'", file, line, key);
		}
	}
	if (r < 0)
		return r;
	if (!mode_set)
		return rombsr_error(ROMBSR_ECONFIG, "%s: 'mode' (capture or replay) is required", file);
	if (cfg->bundle == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "%s: 'bundle' is required", file);
	if (cfg->mode == CAP_MODE_CAPTURE && cfg->journal == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "%s: capture mode needs 'journal'", file);
	if (cfg->mode == CAP_MODE_REPLAY && cfg->signatures == NULL)
		return rombsr_error(ROMBSR_ECONFIG, "%s: replay mode needs 'signatures'", file);
	return 0;
}

int cap_config_load(struct cap_config *cfg)
{
	/* secure_getenv: a set-uid program that loads the module must not be
	 * steered by its caller's environment. */
	const char *path = secure_getenv(CAP_CONFIG_ENV);
	struct rombsr_buf text = {0};
	char *dir_copy = NULL;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	if (path == NULL || path[0] == '\0')
		path = CAP_DEFAULT_CONFIG;
	cfg->source = strdup(path);
	dir_copy = strdup(path);
	if (cfg->source == NULL || dir_copy == NULL) {
		r = rombsr_error(ROMBSR_ENOMEM, "out of memory");
		goto out;
	}
	r = rombsr_file_read(path, CONFIG_MAX, &text);
	if (r < 0) {
		rombsr_error_wrap(r, "configuration (set %s)", CAP_CONFIG_ENV);
		goto out;
	}
	/* An empty file has no buffer at all, and memchr(NULL, ...) is
	 * undefined even for length 0. */
	if (text.len > 0 && memchr(text.data, '\0', text.len) != NULL) {
		r = rombsr_error(ROMBSR_ECONFIG, "%s: not a text file", path);
		goto out;
	}
	r = parse(cfg, (char *)rombsr_buf_cstr(&text), path, dirname(dir_copy));
out:
	free(dir_copy);
	rombsr_buf_free(&text);
	if (r < 0)
		cap_config_free(cfg);
	return r;
}

void cap_config_free(struct cap_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->source);
	free(cfg->bundle);
	free(cfg->journal);
	free(cfg->signatures);
	memset(cfg, 0, sizeof(*cfg));
}
