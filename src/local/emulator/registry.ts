/**
 * Every operation module and settler of proton-local. To add a module, import its OperationTable (and its Settlers
 * if it has async transitions) here; the server refuses duplicate or unmodelled operation names at start.
 */
import { accountOperations } from './account';
import { tagOperations } from './tags';
import { templateOperations, templateRegistrationSettlers } from './templates';
import type { OperationTable, Settler } from './types';
import { workloadOperations, workloadSettlers } from './workloads';

export const operationTables: OperationTable[] = [
  templateOperations,
  tagOperations,
  accountOperations,
  workloadOperations,
];

/** In the order they run: registrations, then deployments, then the services whose deployments ended. */
export const settlers: Settler[] = [
  ...templateRegistrationSettlers,
  ...workloadSettlers,
];
