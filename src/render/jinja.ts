/**
 * Proton's Jinja rendering of CloudFormation IaC files, with nunjucks (a Jinja-compatible engine for JavaScript).
 *
 * User Guide, "AWS Proton parameters" (parameters.html): "To process AWS CloudFormation IaC parameters, AWS Proton uses
 * Jinja". "Parameter filters for CloudFormation IaC files" (parameter-filters.html) defines Proton's own filters,
 * registered here, and says the `default` filter lets "templates render without failure even when the component you
 * refer to is missing": a reference to a parameter that does not exist fails rendering, so undefined values are errors
 * here too (nunjucks' throwOnUndefined), while `is defined` tests and `| default(...)` still work.
 *
 * CDK-free.
 */
import * as nunjucks from 'nunjucks';
import { stringify } from 'yaml';
import { RenderError } from './cloudformation';

/** Parameter values of Proton's namespace (`environment`, `service`, `service_instance`, `pipeline`, `service_instances`). */
export type JinjaContext = { [name: string]: unknown };

// Proton's list-formatting filters are written inline (`Environment:` then `{{ outputs | filter }}` on its own line):
// their multi-line YAML must take the column the expression starts at. The filters wrap their text in these markers
// and renderJinja indents every following line to that column once the whole file is rendered.
const BLOCK_START = '\uE000';
const BLOCK_END = '\uE001';
const BLOCK = new RegExp(`${BLOCK_START}([^${BLOCK_END}]*)${BLOCK_END}`, 'g');

/** parameter-filters.html: "the value is required to match the regular expression ^[a-zA-Z0-9_-]*$" when raw is False. */
const ECS_SAFE_VALUE = /^[a-zA-Z0-9_-]*$/;
/** An IAM managed policy ARN (any partition). */
const IAM_POLICY_ARN = /^arn:[a-zA-Z-]+:iam::(\d{12}|aws):policy\/.+$/;

function outputsOf(value: unknown, filter: string): Array<[string, string]> {
  // A missing component (no `service_instance.components.default`) has no outputs: the filters render nothing.
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${filter} formats a mapping of outputs (such as service_instance.components.default.outputs), got ${JSON.stringify(value)}`);
  }
  return Object.entries(value as { [key: string]: unknown }).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
}

/** nunjucks passes keyword arguments (`raw=False`) as a last object argument marked `__keywords`. */
function rawArgument(raw: unknown): boolean {
  if (typeof raw === 'object' && raw !== null && (raw as { __keywords?: boolean }).__keywords) {
    return (raw as { raw?: unknown }).raw !== false;
  }
  return raw !== false;
}

/**
 * Jinja's `tojson`: Python's json.dumps with Jinja's default policy (sorted keys, `", "` and `": "` separators), and
 * `<`, `>`, `&` and `'` escaped so the text is safe in HTML.
 */
function toJson(value: unknown): string {
  const dumps = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(dumps).join(', ')}]`;
    if (typeof v === 'object' && v !== null) {
      return `{${Object.keys(v).sort().map(k => `${JSON.stringify(k)}: ${dumps((v as { [key: string]: unknown })[k])}`).join(', ')}}`;
    }
    if (v === undefined) throw new Error('tojson: the value is undefined');
    return JSON.stringify(v);
  };
  return dumps(value).replace(/[<>&']/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function block(value: unknown): string {
  const isEmpty = Array.isArray(value) ? value.length === 0 : Object.keys(value as object).length === 0;
  return isEmpty ? '' : `${BLOCK_START}${stringify(value).trimEnd()}${BLOCK_END}`;
}

/** Proton's filters (parameter-filters.html); `default` and the other Jinja built-ins come with nunjucks. */
const PROTON_FILTERS: { [name: string]: (...args: any[]) => string } = {
  /** dict → YAML list of `Name`/`Value` dicts, for a ContainerDefinition's `Environment`. */
  proton_cfn_ecs_task_definition_formatted_env_vars(outputs: unknown, raw: unknown = true) {
    const entries = outputsOf(outputs, 'proton_cfn_ecs_task_definition_formatted_env_vars');
    if (!rawArgument(raw)) {
      const bad = entries.find(([, v]) => !ECS_SAFE_VALUE.test(v));
      if (bad) {
        throw new Error(`proton_cfn_ecs_task_definition_formatted_env_vars(raw=False): output ${bad[0]} value ${JSON.stringify(bad[1])} does not match ${ECS_SAFE_VALUE.source}`);
      }
    }
    return block(entries.map(([Name, Value]) => ({ Name, Value })));
  },
  /** dict → YAML dict, for a Lambda function's `Environment.Variables`. */
  proton_cfn_lambda_function_formatted_env_vars(outputs: unknown, raw: unknown = true) {
    const entries = outputsOf(outputs, 'proton_cfn_lambda_function_formatted_env_vars');
    if (!rawArgument(raw)) {
      const bad = entries.find(([, v]) => !ECS_SAFE_VALUE.test(v));
      if (bad) {
        throw new Error(`proton_cfn_lambda_function_formatted_env_vars(raw=False): output ${bad[0]} value ${JSON.stringify(bad[1])} does not match ${ECS_SAFE_VALUE.source}`);
      }
    }
    return block(Object.fromEntries(entries));
  },
  /** dict → YAML list of the values that are IAM managed policy ARNs, for a role's `ManagedPolicyArns`. */
  proton_cfn_iam_policy_arns(outputs: unknown) {
    return block(outputsOf(outputs, 'proton_cfn_iam_policy_arns').map(([, v]) => v).filter(v => IAM_POLICY_ARN.test(v)));
  },
};

/**
 * What Jinja prints for a value: Python's str(). Booleans are `True`/`False`, and lists and mappings print as Python
 * literals (`['a', 'b']`, `{'k': 1}`), which YAML reads back as a list or a mapping; nunjucks would print `true` and `a,b`.
 */
function pythonStr(value: unknown): unknown {
  if (typeof value === 'boolean' || Array.isArray(value) || (typeof value === 'object' && value !== null && !(value instanceof nunjucks.runtime.SafeString))) {
    return pythonRepr(value);
  }
  return value;
}

function pythonRepr(value: unknown): string {
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const escaped = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return `${quote}${escaped.split(quote).join(`\\${quote}`)}${quote}`;
  }
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as object).map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`).join(', ')}}`;
  }
  return String(value);
}

// nunjucks prints every `{{ }}` through runtime.suppressValue, shared by every nunjucks user in the process: it is
// wrapped once, and prints the Python way only while renderJinja runs (rendering is synchronous).
const runtime = nunjucks.runtime as unknown as { suppressValue(value: unknown, autoescape: boolean): unknown };
const suppressValue = runtime.suppressValue;
let renderingProtonTemplate = false;
runtime.suppressValue = (value, autoescape) => suppressValue(renderingProtonTemplate ? pythonStr(value) : value, autoescape);

// No loader: Proton renders one file, without includes. Jinja does not escape HTML by default, nor does Proton.
const environment = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
for (const [name, filter] of Object.entries(PROTON_FILTERS)) {
  environment.addFilter(name, filter);
}
// Jinja built-ins nunjucks lacks: the tojson filter and Python's literals (nunjucks only knows true, false and none).
environment.addFilter('tojson', toJson);
environment.addGlobal('True', true);
environment.addGlobal('False', false);
environment.addGlobal('None', null);

/**
 * Renders one Jinja file of a bundle.
 *
 * @param file the file's bundle path, for messages
 * @throws RenderError naming the file, the line, the problem and the line's text
 */
export function renderJinja(source: string, file: string, context: JinjaContext): string {
  let rendered: string;
  renderingProtonTemplate = true;
  try {
    rendered = compiled(source).render(context);
  } catch (e) {
    throw new RenderError(describeJinjaError(source, file, (e as Error).message));
  } finally {
    renderingProtonTemplate = false;
  }
  return indentBlocks(rendered);
}

// Compiled templates by source: proton-local renders the same few files for every deployment.
const compiledTemplates = new Map<string, nunjucks.Template>();
const MAX_COMPILED_TEMPLATES = 100;

function compiled(source: string): nunjucks.Template {
  let template = compiledTemplates.get(source);
  if (!template) {
    // eagerCompile: a syntax error is thrown here, and nothing broken is cached.
    template = new nunjucks.Template(source, environment, undefined, true);
    if (compiledTemplates.size >= MAX_COMPILED_TEMPLATES) compiledTemplates.delete(compiledTemplates.keys().next().value!);
    compiledTemplates.set(source, template);
  }
  return template;
}

/** nunjucks messages read "(unknown path) [Line 3, Column 7]\n  unexpected token: %}"; Proton's name the file and line. */
function describeJinjaError(source: string, file: string, message: string): string {
  const position = /\[Line (\d+), Column (\d+)\]/.exec(message);
  const problem = message.replace(/^\(unknown path\)( \[Line \d+, Column \d+\])?\s*/, '').replace(/^Error: /, '').trim();
  const explained = problem === 'attempted to output null or undefined value'
    ? 'a referenced parameter is not defined (an input, output or resource parameter that does not exist here; '
      + 'use `is defined` or `| default(...)` for optional ones)'
    : problem;
  if (!position) {
    return `${file}: Jinja rendering failed: ${explained}`;
  }
  const line = Number(position[1]);
  const text = source.split('\n')[line - 1]?.trim() ?? '';
  return `${file}: Jinja rendering failed at line ${line}: ${explained}${text ? ` (line ${line}: ${text})` : ''}`;
}

function indentBlocks(rendered: string): string {
  return rendered.replace(BLOCK, (_match, text: string, offset: number) => {
    const column = offset - (rendered.lastIndexOf('\n', offset - 1) + 1);
    return text.split('\n').join(`\n${' '.repeat(column)}`);
  });
}
