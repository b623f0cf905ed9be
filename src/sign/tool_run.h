/* One run of a signing tool for an artifact route (docs/server.md,
 * "Artifact routes"): argv[0] an absolute path, envp the whole
 * environment, in folder dir, stdout to out_path (NULL: discarded) and
 * stderr to err_path, killed after timeout seconds. A failure's message
 * names the tool and the last line of its stderr. */
#ifndef ROMBSR_SIGN_TOOL_RUN_H
#define ROMBSR_SIGN_TOOL_RUN_H

int rombsr_tool_run(const char *const *argv, const char *const *envp, const char *dir, const char *out_path,
		    const char *err_path, unsigned timeout);

#endif
