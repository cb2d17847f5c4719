#!/usr/bin/env node
import { runCli } from './run-cli';

// The executable: hands argv and env to the CLI and exits with its code. Nothing else reads
// process.env or process.argv.
void runCli(process.argv.slice(2), process.env).then((code) => process.exit(code));
