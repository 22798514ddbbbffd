// SIGTERM (a cluster's time limit, the end of a machine's lease) and SIGINT (Ctrl-C) during `run` and
// `reproduce`: the first asks the run to stop at its next unit of work (RunOptions::checkpoint), where a
// Transformer ensemble saves its snapshot first, so that the same command resumes losing nothing; a second
// ends the process at once (the first restores the default action). Process-wide, so the front end's
// business: the library only polls what it is given.
#pragma once

namespace iclab::cli {

void catch_stop_signals();       // installs the handlers
int stop_signal();               // the signal that asked to stop, or 0
void throw_if_stop_requested();  // throws iclab::Cancelled once one did

}  // namespace iclab::cli
