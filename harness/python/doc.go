// Package python runs a harness written against SIA's contract:
//
//	python3 target_agent.py --dataset_dir D --working_dir W
//
// as a subprocess in its own process group, with a hard timeout that kills
// the whole group (children and grandchildren too), an environment that
// holds only what the caller passes (OPENAI_BASE_URL and OPENAI_API_KEY
// point the script at sia's gateway), and its output captured to a log file
// in W. The script writes its submission into W; the task's verifier
// scores it.
package python
