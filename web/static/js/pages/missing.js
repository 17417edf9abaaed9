// A page that does not exist: the shell only.

import { start } from "../shell.js";

start(() => undefined);
