import { describe, expect, it } from '@jest/globals';
import { folderCycles } from './folder-cycles.js';

const edge = (from: string, to: string) => ({ from, to, example: `${from} -> ${to}` });

describe('folderCycles', () => {
  it('finds none in a layered graph', () => {
    expect(folderCycles([edge('a', 'b'), edge('b', 'c'), edge('a', 'c')])).toEqual([]);
  });

  it('reports each strongly connected set of folders once', () => {
    const cycles = folderCycles([
      edge('settlement', 'privacy'),
      edge('privacy', 'settlement'),
      edge('x', 'y'),
      edge('y', 'z'),
      edge('z', 'x'),
      edge('x', 'w'),
    ]);
    expect(cycles).toEqual(
      expect.arrayContaining([
        ['privacy', 'settlement'],
        ['x', 'y', 'z'],
      ]),
    );
    expect(cycles).toHaveLength(2);
  });
});
