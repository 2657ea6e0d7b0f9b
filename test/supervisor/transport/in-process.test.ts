import { inProcessChannel } from "../../../supervisor/transport/in-process.ts";
import { transportContract } from "../transport.contract.ts";

transportContract("in-process", (capacity) => ({ ...inProcessChannel(capacity), close() {} }));
