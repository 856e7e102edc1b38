// Package llmagent implements the Meta-Agent and the Feedback-Agent as
// tool-use sessions over any llm.Model.
//
// A Loop alternates model turns and tool calls until the model answers
// without calling a tool, a final tool (submit_decision) succeeds, or a turn
// or token limit is reached; it yields its progress as an iter.Seq2 of
// Events. Meta and Feedback build the prompts from versioned templates in
// prompts/, give the model file tools confined to the generation folder (read
// and write), the task's public files and docs/ (both read only), and read
// the harness the model wrote back from the generation folder.
//
// Nothing here can reach gold labels: the file tools open the generation
// folder through os.Root, refuse symlinks in the read-only mounts, and the
// results, trajectories and statistics the tools return are the gold-free
// ones the loop passes in.
package llmagent
