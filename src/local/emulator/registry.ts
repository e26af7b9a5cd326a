/**
 * Every operation module and settler of proton-local. To add a module, import its OperationTable (and its Settler
 * if it has async transitions) here; the server refuses duplicate or unmodelled operation names at start.
 */
import { accountOperations } from './account';
import { tagOperations } from './tags';
import { settleTemplateRegistrations, templateOperations } from './templates';
import type { OperationTable, Settler } from './types';
import { settleWorkloads, workloadOperations } from './workloads';

export const operationTables: OperationTable[] = [
  templateOperations,
  tagOperations,
  accountOperations,
  workloadOperations,
];

export const settlers: Settler[] = [
  settleTemplateRegistrations,
  settleWorkloads,
];
