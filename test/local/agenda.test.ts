/** Settling costs what is due, not the size of the state: the agenda's time-ordered queue of pending transitions. */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { GetDeploymentCommand, GetEnvironmentTemplateCommand } from '@aws-sdk/client-proton';
import { protonClient } from './helpers';
import { ManualClock, ProtonLocal } from '../../src/local';
import { Agenda } from '../../src/local/emulator/agenda';
import { deploymentSettler } from '../../src/local/emulator/deployments';
import { emptyState } from '../../src/local/emulator/state';

function stateWithDeployments(count: number) {
  const state = emptyState();
  for (let i = 0; i < count; i++) {
    state.deployments[`d${i}`] = { id: `d${i}`, completesAt: 1000 + i, createdAt: 0 };
  }
  return state;
}

test('only due records come out, in due order; a changed record is rescheduled, a completed one dropped', () => {
  const state = stateWithDeployments(5000);
  const agenda = new Agenda([deploymentSettler]);
  agenda.rebuild(state);
  expect(agenda.takeDue(deploymentSettler, 999)).toEqual([]);
  expect(agenda.takeDue(deploymentSettler, 1002)).toEqual(['d0', 'd1', 'd2']);

  state.deployments.d4000.completesAt = 10; // moved earlier
  state.deployments.d3.completesAt = undefined; // completed elsewhere
  agenda.noteChanges(state, [['deployments', 'd4000'], ['deployments', 'd3']]);
  expect(agenda.takeDue(deploymentSettler, 1004)).toEqual(['d4000', 'd4']);
});

test('on the server, reads with 2000 deployments pending look at none of them until one is due', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'proton-local-agenda-'));
  const stateFile = join(dir, 'state.json');
  const clock = new ManualClock(0);
  const idOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const deployments = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [idOf(i), {
    id: idOf(i),
    arn: `arn:aws:proton:us-east-1:123456789012:deployment/${idOf(i)}`,
    targetArn: 'arn:aws:proton:us-east-1:123456789012:environment/gone',
    targetResourceType: 'ENVIRONMENT',
    environmentName: 'gone',
    deploymentStatus: 'IN_PROGRESS',
    createdAt: 0,
    lastModifiedAt: 0,
    outputs: [],
    completesAt: 60_000 + i,
  }]));
  writeFileSync(stateFile, JSON.stringify({ deployments }));
  const local = await ProtonLocal.start({ stateFile, clock });
  const proton = protonClient(local.endpoint);
  try {
    const dueAt = jest.spyOn(deploymentSettler, 'dueAt');
    const settle = jest.spyOn(deploymentSettler, 'settle');
    for (let i = 0; i < 50; i++) {
      await expect(proton.send(new GetEnvironmentTemplateCommand({ name: 'none' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    }
    expect(dueAt).not.toHaveBeenCalled();
    expect(settle).not.toHaveBeenCalled();

    clock.advance(60_001);
    await expect(proton.send(new GetDeploymentCommand({ id: idOf(1) }))).resolves.toMatchObject({ deployment: { deploymentStatus: 'SUCCEEDED' } });
    expect(settle).toHaveBeenCalledWith(expect.anything(), [idOf(0), idOf(1)]);
    expect((await proton.send(new GetDeploymentCommand({ id: idOf(2) }))).deployment!.deploymentStatus).toBe('IN_PROGRESS');
  } finally {
    jest.restoreAllMocks();
    proton.destroy();
    await local.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
